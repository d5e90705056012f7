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
/// named sets (ClientIP affinity) survives. A full sync rewrites everything:
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
/// A partial sync trusts `current` (what the last applied script left) and touches only what
/// differs from it — in the same order, so the same argument holds:
///
/// ```
/// add table ip T
/// add chain …             # new chains
/// add set … / add map …   # new ones, and those to delete as they were (idempotent)
/// flush chain …           # chains whose rules changed or that use a set being recreated,
///                         #   and chains to delete: no old rule refers to anything any more
/// delete element …        # map elements removed or whose verdict changed
/// delete set … / map …    # the unwanted ones, and sets whose definition changed
/// add set …               # sets whose definition changed
/// add rule …              # the flushed and new chains' rules, in chain order
/// add element …           # map elements new or changed
/// delete chain …          # unwanted chains, now empty and unreferenced
/// ```
///
/// Any chain, set or element a removed object's old rules or elements referred to is thereby
/// rewritten or deleted before the object goes: a rule or element naming it cannot be unchanged,
/// since the new ones name only wanted objects.
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
    /// Rule lines (and comments) in the order written.
    private var rules: [String] = []
    /// Each chain's rules (as after `add rule ip T <chain> `), every declared chain included.
    private var chainRules: [String: [String]] = [:]
    /// Each map's keys in the order added, and their values.
    private var elementOrder: [String: [String]] = [:]
    private var elementValues: [String: [String: String]] = [:]

    init(table: String) { self.table = table }

    var prefix: String { "ip \(table)" }

    /// Adds a base chain (before every regular chain).
    mutating func baseChain(_ chain: BaseChain) {
        guard chainNames.insert(chain.name).inserted else { return }
        baseChains.append(chain)
        chainRules[chain.name] = []
    }

    /// Declares a regular chain once; later calls are no-ops.
    mutating func chain(_ name: String) {
        guard chainNames.insert(name).inserted else { return }
        chains.append(name)
        chainRules[name] = []
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
        chainRules[chain, default: []].append(text)
    }

    /// A `#` comment line among the rules (newlines removed).
    mutating func comment(_ text: String) {
        rules.append("# " + text.filter { $0 != "\n" && $0 != "\r" })
    }

    /// Adds `key : value` to a map unless the key is there already (a duplicate key would fail the
    /// whole transaction); returns whether it was added.
    @discardableResult
    mutating func element(_ map: String, key: String, value: String) -> Bool {
        guard elementValues[map]?[key] == nil else { return false }
        elementValues[map, default: [:]][key] = value
        elementOrder[map, default: []].append(key)
        return true
    }

    /// Whether `map` has `key`.
    func hasElement(_ map: String, key: String) -> Bool { elementValues[map]?[key] != nil }

    // MARK: rendering

    /// What the table holds once the script is applied.
    var contents: ServiceProxyRules.TableContents {
        ServiceProxyRules.TableContents(
            chains: chainRules.filter { chainNames.contains($0.key) },
            declarations: Dictionary(uniqueKeysWithValues: declarations.map { ($0.name, $0.declaration) }),
            elements: elementValues.filter { maps.contains($0.key) })
    }

    /// The rules and map elements: what the snapshot asks for, whatever the table held.
    func renderBody() -> String {
        var lines = rules
        for map in maps {
            for key in elementOrder[map] ?? [] { lines.append(addElement(map, key, elementValues[map]?[key] ?? "")) }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// The script that turns a table holding `current` into this one (nil: recreate the table),
    /// rewriting everything (`partial` false) or only what differs from `current`, and what the
    /// table then holds. With `deletingNewChains` false, chains `current` had with rules and that
    /// are no longer wanted are only emptied (listed in `emptyChains`), for kernels that refuse to
    /// delete a chain in the transaction that drops its last reference.
    func render(header: [String] = [], body: String, current: ServiceProxyRules.TableContents?, partial: Bool = false,
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

        let staleChains = current.chainNames.subtracting(chainNames).sorted()
        let staleDeclarations = current.declarations.filter { declared.contains($0.key) == false }.keys.sorted()
        let changed = Set(declarations.filter { entry in
            current.declarations[entry.name].map { $0 != entry.declaration } ?? false
        }.map(\.name))
        let keptChains: Set<String> = deletingNewChains ? [] : Set(staleChains.filter { current.chains[$0] != nil })
        // What goes (unwanted, or changed): declared as it was, so that the delete finds it.
        let leaving = (staleDeclarations + changed).sorted()
        let redeclareLeaving = leaving.compactMap { name in current.declarations[name].map { $0.add(prefix, name) } }
        let deleteLeaving = leaving.compactMap { name in
            current.declarations[name].map { "delete \($0.kind.rawValue) \(prefix) \(name)" }
        }
        let addChanged = declarations.filter { changed.contains($0.name) }.map { $0.declaration.add(prefix, $0.name) }
        var tail: [String] = []
        for chain in staleChains where !keptChains.contains(chain) { tail.append("delete chain \(prefix) \(chain)") }
        contents.emptyChains = keptChains

        if partial {
            lines += partialUpdate(current: current, staleChains: staleChains, changed: changed,
                                   redeclareLeaving: redeclareLeaving, deleteLeaving: deleteLeaving, addChanged: addChanged)
            return ((lines + tail).joined(separator: "\n") + "\n", contents)
        }

        lines += chainDeclarations()
        for chain in staleChains { lines.append("add chain \(prefix) \(chain)") }
        for (name, d) in declarations where current.declarations[name] == d || current.declarations[name] == nil {
            lines.append(d.add(prefix, name))
        }
        lines += redeclareLeaving
        for chain in baseChains.map(\.name) + chains + staleChains { lines.append("flush chain \(prefix) \(chain)") }
        for map in maps { lines.append("flush map \(prefix) \(map)") }
        lines += deleteLeaving
        lines += addChanged
        let script = lines.joined(separator: "\n") + "\n" + body + (tail.isEmpty ? "" : tail.joined(separator: "\n") + "\n")
        return (script, contents)
    }

    /// The middle of a partial update (after `add table`, before the chain deletions).
    private func partialUpdate(current: ServiceProxyRules.TableContents, staleChains: [String], changed: Set<String>,
                               redeclareLeaving: [String], deleteLeaving: [String], addChanged: [String]) -> [String] {
        var lines: [String] = []
        let ordered = baseChains.map(\.name) + chains
        // New chains (an emptied one that is wanted again counts as new: it has no rules).
        for chain in baseChains where current.chains[chain.name] == nil {
            lines.append("add chain \(prefix) \(chain.name) { \(chain.definition) }")
        }
        for chain in chains where current.chains[chain] == nil { lines.append("add chain \(prefix) \(chain)") }
        for (name, d) in declarations where current.declarations[name] == nil { lines.append(d.add(prefix, name)) }
        lines += redeclareLeaving

        // Chains to rewrite: new rules, or rules using a set that is recreated.
        let rewritten = ordered.filter { chain in
            guard let old = current.chains[chain] else { return true }
            return old != chainRules[chain] || Self.refers(to: changed, old)
        }
        for chain in rewritten where current.chains[chain] != nil { lines.append("flush chain \(prefix) \(chain)") }
        for chain in staleChains where current.chains[chain] != nil { lines.append("flush chain \(prefix) \(chain)") }

        // Elements removed or changed go first; new and changed ones come after the rules.
        var additions: [String] = []
        for map in maps {
            let old = current.elements[map] ?? [:], new = elementValues[map] ?? [:]
            for key in old.keys.sorted() where new[key] != old[key] { lines.append("delete element \(prefix) \(map) { \(key) }") }
            for key in elementOrder[map] ?? [] where old[key] != new[key] { additions.append(addElement(map, key, new[key] ?? "")) }
        }
        lines += deleteLeaving
        lines += addChanged
        for chain in rewritten {
            for rule in chainRules[chain] ?? [] { lines.append("add rule \(prefix) \(chain) \(rule)") }
        }
        return lines + additions
    }

    /// Whether any of `rules` refers to one of the sets or maps `names` (`@name`).
    private static func refers(to names: Set<String>, _ rules: [String]) -> Bool {
        guard !names.isEmpty else { return false }
        return rules.contains { rule in
            rule.split(separator: " ").contains { $0.first == "@" && names.contains(String($0.dropFirst())) }
        }
    }

    private func addElement(_ map: String, _ key: String, _ value: String) -> String {
        "add element \(prefix) \(map) { \(key) : \(value) }"
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
