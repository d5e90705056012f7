/// An `nft -f` script that brings one `ip` table to a set of chains, sets, maps, rules and
/// elements in one transaction.
///
/// It is written as flat commands, in an order where every object exists before anything refers
/// to it and nothing is deleted while something still refers to it. When what the table holds is
/// unknown (`current` nil: the first apply after a start, or the table vanished) it recreates the
/// table:
///
/// ```
/// add table ip T          # so that the delete cannot fail on a first run
/// delete table ip T       # drops the previous rules, chains, sets and maps
/// add table ip T
/// add chain …             # base chains (with hook and priority), then regular chains
/// add map … / add set …
/// add rule …              # in chain order, grouped per service
/// add element …           # map contents
/// ```
///
/// Otherwise it updates the table in place, as kube-proxy does, so that what the kernel keeps in
/// named sets (ClientIP affinity) survives:
///
/// ```
/// add table ip T
/// add chain …             # every wanted chain, and every one to delete (`add` is idempotent,
/// add map … / add set …   #   so a delete cannot fail on an object already gone)
/// flush chain …           # every chain: no rule refers to anything any more
/// flush map …             # maps hold what the script writes; sets (affinity) are not flushed
/// delete set … / map …    # the unwanted ones, and sets whose definition changed
/// add set …               # wanted sets that are new or changed
/// add rule … / add element …
/// delete chain …          # unwanted chains, now empty and unreferenced
/// ```
///
/// nft sends the whole file to the kernel as one batch: either all of it takes effect or, if any
/// command fails, none does and the previous table stays as it was.
struct NFTScript: Sendable {
    /// A chain attached to a netfilter hook.
    struct BaseChain: Sendable, Hashable {
        var name: String
        /// `filter` or `nat`.
        var type: String
        var hook: String
        /// A number: nft 1.0.6 refuses the name `dstnat` on the output hook.
        var priority: Int

        var definition: String { "type \(type) hook \(hook) priority \(priority) ; policy accept ;" }
    }

    let table: String
    private var baseChains: [BaseChain] = []
    private var chains: [String] = []
    private var chainNames = Set<String>()
    /// Named sets and maps in declaration order.
    private var declarations: [(name: String, declaration: NFTDeclaration)] = []
    private var declared = Set<String>()
    private var maps: [String] = []
    private var rules: [String] = []
    private var elements: [String: [String]] = [:]
    private var elementKeys: [String: Set<String>] = [:]

    init(table: String) { self.table = table }

    var prefix: String { "ip \(table)" }

    /// Adds a base chain (before every regular chain).
    mutating func baseChain(_ chain: BaseChain) {
        guard chainNames.insert(chain.name).inserted else { return }
        baseChains.append(chain)
    }

    /// Declares a regular chain once; later calls are no-ops.
    mutating func chain(_ name: String) {
        guard chainNames.insert(name).inserted else { return }
        chains.append(name)
    }

    /// Whether a chain of that name was declared.
    func hasChain(_ name: String) -> Bool { chainNames.contains(name) }

    /// Declares a set whose elements the kernel adds (`definition` is what goes between the
    /// braces); an update keeps its elements.
    mutating func set(_ name: String, _ definition: String) {
        guard declared.insert(name).inserted else { return }
        declarations.append((name, NFTDeclaration(kind: .set, definition: definition + " ;")))
    }

    /// Declares a verdict map with key type `keyType`; its elements are the script's.
    mutating func verdictMap(_ name: String, keyType: String) {
        guard declared.insert(name).inserted else { return }
        maps.append(name)
        declarations.append((name, NFTDeclaration(kind: .map, definition: "type \(keyType) : verdict ;")))
    }

    /// Appends a rule to `chain`.
    mutating func rule(_ chain: String, _ text: String) {
        rules.append("add rule \(prefix) \(chain) \(text)")
    }

    /// A `#` comment line among the rules (newlines removed).
    mutating func comment(_ text: String) {
        rules.append("# " + text.filter { $0 != "\n" && $0 != "\r" })
    }

    /// Adds `key : value` to a map unless the key is there already (a duplicate key would fail the
    /// whole transaction); returns whether it was added.
    @discardableResult
    mutating func element(_ map: String, key: String, value: String) -> Bool {
        guard elementKeys[map, default: []].insert(key).inserted else { return false }
        elements[map, default: []].append("\(key) : \(value)")
        return true
    }

    /// Whether `map` has `key`.
    func hasElement(_ map: String, key: String) -> Bool { elementKeys[map]?.contains(key) ?? false }

    // MARK: rendering

    /// What the table holds once the script is applied.
    var contents: ServiceProxyRules.TableContents {
        ServiceProxyRules.TableContents(
            chains: chainNames,
            declarations: Dictionary(uniqueKeysWithValues: declarations.map { ($0.name, $0.declaration) }))
    }

    /// The rules and map elements: what the snapshot asks for, whatever the table held.
    func renderBody() -> String {
        var lines = rules
        for map in maps {
            for element in elements[map] ?? [] { lines.append("add element \(prefix) \(map) { \(element) }") }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// The script that turns a table holding `current` into this one (nil: recreate the table),
    /// and what the table then holds. With `deletingNewChains` false, chains `current` had with
    /// rules and that are no longer wanted are only emptied (listed in `emptyChains`), for
    /// kernels that refuse to delete a chain in the transaction that drops its last reference.
    func render(header: [String] = [], body: String, current: ServiceProxyRules.TableContents?,
                deletingNewChains: Bool = true) -> (script: String, contents: ServiceProxyRules.TableContents) {
        var lines = header.map { "# " + $0 }
        var contents = self.contents
        lines.append("add table \(prefix)")
        guard let current else {
            lines.append("delete table \(prefix)")
            lines.append("add table \(prefix)")
            lines += chainDeclarations()
            for (name, d) in declarations { lines.append(d.add(prefix, name)) }
            return (lines.joined(separator: "\n") + "\n" + body, contents)
        }

        let staleChains = current.chains.union(current.emptyChains).subtracting(chainNames).sorted()
        let staleDeclarations = current.declarations.filter { declared.contains($0.key) == false }.keys.sorted()
        let changed = Set(declarations.filter { entry in
            current.declarations[entry.name].map { $0 != entry.declaration } ?? false
        }.map(\.name))
        let keptChains: Set<String> = deletingNewChains ? [] : Set(staleChains.filter { current.chains.contains($0) })

        lines += chainDeclarations()
        for chain in staleChains { lines.append("add chain \(prefix) \(chain)") }
        for (name, d) in declarations where current.declarations[name] == d || current.declarations[name] == nil {
            lines.append(d.add(prefix, name))
        }
        // What goes (unwanted, or changed): declared as it was, so that the delete finds it.
        let leaving = (staleDeclarations + changed).sorted()
        for name in leaving {
            if let old = current.declarations[name] { lines.append(old.add(prefix, name)) }
        }
        for chain in baseChains.map(\.name) + chains + staleChains { lines.append("flush chain \(prefix) \(chain)") }
        for map in maps { lines.append("flush map \(prefix) \(map)") }
        for name in leaving {
            if let old = current.declarations[name] { lines.append("delete \(old.kind.rawValue) \(prefix) \(name)") }
        }
        for (name, d) in declarations where changed.contains(name) { lines.append(d.add(prefix, name)) }

        var tail: [String] = []
        for chain in staleChains where !keptChains.contains(chain) { tail.append("delete chain \(prefix) \(chain)") }
        contents.emptyChains = keptChains
        let script = lines.joined(separator: "\n") + "\n" + body + (tail.isEmpty ? "" : tail.joined(separator: "\n") + "\n")
        return (script, contents)
    }

    private func chainDeclarations() -> [String] {
        baseChains.map { "add chain \(prefix) \($0.name) { \($0.definition) }" }
            + chains.map { "add chain \(prefix) \($0)" }
    }
}

/// A named set or map as declared: `add <kind> ip T <name> { <definition> }`.
struct NFTDeclaration: Sendable, Hashable {
    enum Kind: String, Sendable, Hashable { case set, map }

    var kind: Kind
    /// What goes between the braces.
    var definition: String

    func add(_ prefix: String, _ name: String) -> String {
        "add \(kind.rawValue) \(prefix) \(name) { \(definition) }"
    }
}
