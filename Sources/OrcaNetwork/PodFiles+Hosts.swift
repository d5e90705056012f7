extension PodFiles {
    /// The pod's `/etc/hosts`, byte for byte as the kubelet writes it: header, localhost and IPv6
    /// lines, one `<ip>\t<fqdn>\t<hostname>` (or `<ip>\t<hostname>`) line per pod IP, then host aliases.
    /// A host-network pod gets the node's hosts file (`hostHostsFile`) under its own header, then aliases.
    public func hostsFileContent(_ spec: PodFilesSpec, hostHostsFile: String = "") -> String {
        if spec.hostNetwork {
            return Self.managedHostsHeaderWithHostNetwork + hostHostsFile + Self.hostAliasLines(spec.hostAliases)
        }
        var out = Self.managedHostsHeader
        out += "127.0.0.1\tlocalhost\n"
        out += "::1\tlocalhost ip6-localhost ip6-loopback\n"
        out += "fe00::0\tip6-localnet\n"
        out += "fe00::0\tip6-mcastprefix\n"
        out += "fe00::1\tip6-allnodes\n"
        out += "fe00::2\tip6-allrouters\n"
        let domain = hostDomain(spec)
        for ip in spec.podIPs {
            if let domain {
                out += "\(ip)\t\(spec.hostname).\(domain)\t\(spec.hostname)\n"
            } else {
                out += "\(ip)\t\(spec.hostname)\n"
            }
        }
        return out + Self.hostAliasLines(spec.hostAliases)
    }

    /// `\n# Entries added by HostAliases.\n` and one tab-separated line per alias; empty without aliases.
    static func hostAliasLines(_ aliases: [PodHostAlias]) -> String {
        guard !aliases.isEmpty else { return "" }
        var out = "\n# Entries added by HostAliases.\n"
        for alias in aliases {
            out += "\(alias.ip)\t\(alias.hostnames.joined(separator: "\t"))\n"
        }
        return out
    }
}
