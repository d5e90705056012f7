import OrcaAPI

extension Registry {
    /// Stored objects as `r` serves them: custom resources stored in another version of their
    /// definition are converted to `r`'s (built-in objects are stored as they are served).
    func served(_ objects: [JSONValue], as r: ResourceType) async throws -> [JSONValue] {
        let target = r.apiVersion
        guard objects.contains(where: { $0.apiVersion != target }), let custom = served.customResource(r) else { return objects }
        return try await CustomResourceConverter(custom: custom, registry: self).convert(objects, to: r.version)
    }

    /// One stored object as `r` serves it.
    func served(_ object: JSONValue, as r: ResourceType) async throws -> JSONValue {
        try await served([object], as: r)[0]
    }

    /// `object` (in `r`'s version) as it is stored: a custom resource in its definition's
    /// storage version.
    func storageForm(_ object: JSONValue, of r: ResourceType) async throws -> JSONValue {
        guard let custom = served.customResource(r), custom.storageVersion != r.version else { return object }
        return try await CustomResourceConverter(custom: custom, registry: self).toStorage(object)
    }
}
