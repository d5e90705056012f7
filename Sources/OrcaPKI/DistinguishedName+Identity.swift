import X509

extension DistinguishedName {
    /// The common name (the last one, as Go's pkix does), or "".
    public var commonName: String {
        var cn = ""
        for rdn in self { for attr in rdn where attr.type == .RDNAttributeType.commonName { cn = attr.value.description } }
        return cn
    }

    /// The organizations in order: a certificate's Kubernetes groups.
    public var organizations: [String] {
        var orgs: [String] = []
        for rdn in self { for attr in rdn where attr.type == .RDNAttributeType.organizationName { orgs.append(attr.value.description) } }
        return orgs
    }
}
