extension PodFiles {
    /// The policy in effect: `ClusterFirst` on a host-network pod acts as `Default`, and
    /// `ClusterFirstWithHostNet` always as `ClusterFirst`. Without cluster DNS servers, cluster
    /// policies fall back to `Default`.
    public func effectiveDNSPolicy(_ spec: PodFilesSpec) -> PodDNSPolicy {
        switch spec.dnsPolicy {
        case .clusterFirst:
            return spec.hostNetwork || clusterDNS.isEmpty ? .default : .clusterFirst
        case .clusterFirstWithHostNet:
            return clusterDNS.isEmpty ? .default : .clusterFirst
        case .default:
            return .default
        case .none:
            return .none
        }
    }

    /// The pod's resolver settings, as the kubelet computes them:
    /// - `ClusterFirst`: the cluster DNS servers; search `<ns>.svc.<domain> svc.<domain> <domain>` then
    ///   the node's search domains; `options ndots:5`.
    /// - `Default`: the node's name servers, search domains and options (`hostResolvConf`).
    /// - `None`: nothing.
    ///
    /// Then `dnsConfig` is merged (servers and searches appended without duplicates, options replaced by
    /// name) and the result is cut to 3 name servers and 32 search domains.
    public func resolvConf(_ spec: PodFilesSpec, hostResolvConf: String) -> ResolvConf {
        let host = ResolvConf(parsing: hostResolvConf)
        var conf: ResolvConf
        switch effectiveDNSPolicy(spec) {
        case .clusterFirst, .clusterFirstWithHostNet:
            let cluster = ["\(spec.namespace).svc.\(clusterDomain)", "svc.\(clusterDomain)", clusterDomain]
            conf = ResolvConf(
                nameservers: clusterDNS,
                searches: clusterDomain.isEmpty ? host.searches : ResolvConf.omittingDuplicates(cluster + host.searches),
                options: ["ndots:5"]
            )
        case .default:
            conf = host
        case .none:
            conf = ResolvConf()
        }
        if let extra = spec.dnsConfig {
            conf.nameservers = ResolvConf.omittingDuplicates(conf.nameservers + extra.nameservers)
            conf.searches = ResolvConf.omittingDuplicates(conf.searches + extra.searches)
            conf.options = ResolvConf.mergeOptions(conf.options, extra.options.map { ($0.name, $0.value) })
        }
        return conf.fittingLimits()
    }
}
