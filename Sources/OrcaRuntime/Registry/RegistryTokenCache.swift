/// The `Authorization` values a `RegistryClient` earned, by registry host and scope, kept for
/// the client's lifetime and shared by its copies.
actor RegistryTokenCache {
    struct Key: Hashable {
        var host: String
        var scope: String
    }

    private var values: [Key: String] = [:]

    subscript(key: Key) -> String? { values[key] }

    func set(_ key: Key, _ authorization: String) { values[key] = authorization }

    func remove(_ key: Key) { values[key] = nil }
}
