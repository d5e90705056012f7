/// An `nft -f` script that replaces one `ip` table in one transaction.
///
/// It is written as flat commands, in an order where every object exists before anything refers
/// to it:
///
/// ```
/// add table ip T          # so that the delete cannot fail on a first run
/// delete table ip T       # drops the previous rules, chains, sets and maps
/// add table ip T
/// add chain …             # base chains (with hook and priority), then regular chains
/// add set … / add map …
/// add rule …              # in chain order, grouped per service
/// add element …           # map contents
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
    }

    let table: String
    private var baseChains: [BaseChain] = []
    private var chains: [String] = []
    private var chainNames = Set<String>()
    private var declarations: [String] = []
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

    /// Declares a set (`definition` is what goes between the braces).
    mutating func set(_ name: String, _ definition: String) {
        declarations.append("add set \(prefix) \(name) { \(definition) ; }")
    }

    /// Declares a verdict map with key type `keyType`.
    mutating func verdictMap(_ name: String, keyType: String) {
        maps.append(name)
        declarations.append("add map \(prefix) \(name) { type \(keyType) : verdict ; }")
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

    /// The script text.
    func render(header: [String] = []) -> String {
        var lines = header.map { "# " + $0 }
        lines.append("add table \(prefix)")
        lines.append("delete table \(prefix)")
        lines.append("add table \(prefix)")
        for c in baseChains {
            lines.append("add chain \(prefix) \(c.name) { type \(c.type) hook \(c.hook) priority \(c.priority) ; policy accept ; }")
        }
        for c in chains { lines.append("add chain \(prefix) \(c)") }
        lines += declarations
        lines += rules
        for map in maps {
            for element in elements[map] ?? [] { lines.append("add element \(prefix) \(map) { \(element) }") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
