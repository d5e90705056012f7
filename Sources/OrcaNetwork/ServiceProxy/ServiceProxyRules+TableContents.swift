extension ServiceProxyRules {
    /// What an applied script left in the table: every chain with its rules, the named sets and
    /// maps, and the maps' elements — what the next script updates in place (kube-proxy lists
    /// the chains from the kernel and remembers the rest; the proxy remembers it all).
    ///
    /// Keep the `Output.contents` (or `Update.contents`) of the last script nft took and pass it as
    /// `current` to the next `build`. nil there means "unknown" — the first apply after a start,
    /// when an earlier run may have left anything, or after the table vanished — and the script
    /// then recreates the table.
    public struct TableContents: Sendable, Hashable {
        /// Every chain with rules from the script (base chains included), with its rules in order
        /// (as after `add rule ip T <chain> `).
        var chains: [String: [String]] = [:]
        /// Chains an update emptied but could not delete (`Output.deferringChainDeletion`): the
        /// next update deletes them.
        var emptyChains: Set<String> = []
        /// Named sets and maps, as declared.
        var declarations: [String: NFTDeclaration] = [:]
        /// The maps' elements: map → key → value.
        var elements: [String: [String: String]] = [:]

        /// Nothing (an empty table).
        public init() {}

        init(chains: [String: [String]], emptyChains: Set<String> = [], declarations: [String: NFTDeclaration],
             elements: [String: [String: String]]) {
            self.chains = chains
            self.emptyChains = emptyChains
            self.declarations = declarations
            self.elements = elements
        }

        /// The names of every chain in the table, emptied ones included.
        var chainNames: Set<String> { Set(chains.keys).union(emptyChains) }
    }

    /// One transaction: its script and what the table holds after it.
    public struct Update: Sendable, Hashable {
        /// The `nft -f` script.
        public var script: String
        /// The table once the script is applied: the next `build`'s `current`.
        public var contents: TableContents
    }

    /// How a script brings the table to the snapshot's rules.
    public enum Sync: Sendable, Hashable {
        /// Delete and recreate the table (its contents are unknown); affinity sets are lost.
        case recreate
        /// Rewrite every chain and map in place, declaring everything (so that it also restores
        /// what went missing), and delete what is stale: kube-proxy's full sync.
        case full
        /// Touch only what differs from `current`: new objects, chains whose rules changed, map
        /// elements that changed, stale objects — kube-proxy's partial sync.
        case partial
    }
}
