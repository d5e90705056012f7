extension ServiceProxyRules {
    /// The chains, sets and maps an applied script left in the table — what the next script
    /// updates in place (kube-proxy lists them from the kernel; the proxy remembers them).
    ///
    /// Keep the `Output.contents` (or `Update.contents`) of the last script nft took and pass it as
    /// `current` to the next `build`. nil there means "unknown" — the first apply after a start,
    /// when an earlier run may have left anything, or after the table vanished — and the script
    /// then recreates the table.
    public struct TableContents: Sendable, Hashable {
        /// Every chain with rules from the script (base chains included).
        var chains: Set<String> = []
        /// Chains an update emptied but could not delete (`Output.deferringChainDeletion`): the
        /// next update deletes them.
        var emptyChains: Set<String> = []
        /// Named sets and maps, as declared.
        var declarations: [String: NFTDeclaration] = [:]

        /// Nothing (an empty table).
        public init() {}

        init(chains: Set<String>, emptyChains: Set<String> = [], declarations: [String: NFTDeclaration]) {
            self.chains = chains
            self.emptyChains = emptyChains
            self.declarations = declarations
        }
    }

    /// One transaction: its script and what the table holds after it.
    public struct Update: Sendable, Hashable {
        /// The `nft -f` script.
        public var script: String
        /// The table once the script is applied: the next `build`'s `current`.
        public var contents: TableContents
    }
}
