import OrcaAPI

/// One served custom resource: what an established CustomResourceDefinition says about its
/// group resource, read once when the definition changes (names from `status.acceptedNames`,
/// as kube-apiserver serves them).
public struct CustomResource: Sendable {
    /// The CustomResourceDefinition as stored.
    public let definition: CustomResourceDefinition
    public let group: String
    /// `crontabs`
    public let plural: String
    public let kind: String
    public let listKind: String
    public let namespaced: Bool
    /// One per served version, in the order of `spec.versions`.
    public let resourceTypes: [ResourceType]
    /// The version objects are stored in.
    public let storageVersion: String
    /// The definition is being deleted: its objects are listed and deleted, no new ones made.
    public let terminating: Bool
    /// How objects are converted between versions.
    let conversion: Conversion
    let versions: [String: Version]

    /// `spec.conversion`: `None` rewrites `apiVersion`; `Webhook` asks the definition's
    /// conversion webhook, in the first of its review versions Orca speaks.
    enum Conversion: Sendable {
        case none
        case webhook(AdmissionregistrationV1WebhookClientConfig, reviewVersions: [String])
    }

    /// What one version of a custom resource adds to its objects.
    struct Version: Sendable {
        var name: String
        var schema: StructuralSchema?
        var printerColumns: [CustomResourceColumnDefinition]
        /// `subresources.status` is set: status is written only through `/status`.
        var status: Bool
        var scale: CustomResourceSubresourceScale?
        /// `selectableFields[].jsonPath` (`.spec.color`), usable in field selectors.
        var selectableFields: [String]
        var deprecationWarning: String?
    }

    /// `crontabs.stable.example.com`
    public var groupResource: String { "\(plural).\(group)" }

    /// The served resource of a definition, or nil while its names are not accepted or it is
    /// not established.
    public init?(_ crd: CustomResourceDefinition) {
        guard let spec = crd.spec, let group = spec.group, let names = crd.status?.acceptedNames,
              let plural = names.plural, !plural.isEmpty, let kind = names.kind, !kind.isEmpty,
              CustomResourceDefinitionConditions.isTrue(crd, "Established") else { return nil }
        self.definition = crd
        self.group = group
        self.plural = plural
        self.kind = kind
        self.listKind = names.listKind ?? kind + "List"
        self.namespaced = spec.scope != "Cluster"
        self.terminating = crd.metadata?.deletionTimestamp != nil
        if spec.conversion?.strategy == "Webhook", let webhook = spec.conversion?.webhook, let config = webhook.clientConfig {
            let service = config.service.map {
                AdmissionregistrationV1ServiceReference(name: $0.name, namespace: $0.namespace, path: $0.path, port: $0.port)
            }
            self.conversion = .webhook(AdmissionregistrationV1WebhookClientConfig(caBundle: config.caBundle, service: service, url: config.url),
                                       reviewVersions: webhook.conversionReviewVersions ?? [])
        } else {
            self.conversion = .none
        }
        var types: [ResourceType] = []
        var versions: [String: Version] = [:]
        var storage: String?
        for v in spec.versions ?? [] {
            guard let name = v.name else { continue }
            if v.storage == true { storage = name }
            let status = v.subresources?.status != nil
            let scale = v.subresources?.scale
            versions[name] = Version(
                name: name, schema: v.schema?.openAPIV3Schema.map(StructuralSchema.init),
                printerColumns: v.additionalPrinterColumns ?? [], status: status, scale: scale,
                selectableFields: (v.selectableFields ?? []).compactMap(\.jsonPath),
                deprecationWarning: v.deprecated == true
                    ? (v.deprecationWarning ?? "\(group)/\(name) \(kind) is deprecated") : nil)
            guard v.served == true else { continue }
            var t = ResourceType(group, name, kind, plural, namespaced: spec.scope != "Cluster",
                                 shortNames: names.shortNames ?? [], categories: names.categories ?? [],
                                 subresources: (status ? ["status"] : []) + (scale != nil ? ["scale"] : []))
            t.singular = names.singular.flatMap { $0.isEmpty ? nil : $0 } ?? kind.lowercased()
            types.append(t)
        }
        guard let storage else { return nil }
        self.storageVersion = storage
        self.resourceTypes = types
        self.versions = versions
    }

    /// The version facts of `r` (one of `resourceTypes`).
    func version(_ r: ResourceType) -> Version? { versions[r.version] }

    /// The version facts of an object, by its `apiVersion` (`stable.example.com/v1`).
    func version(apiVersion: String?) -> Version? {
        guard let apiVersion, apiVersion.hasPrefix(group + "/") else { return nil }
        return versions[String(apiVersion.dropFirst(group.count + 1))]
    }
}
