import OrcaAPI

/// kube-apiserver's ServiceAccount admission on pod creation: the pod runs as `default`
/// unless it names a ServiceAccount, which must exist; unless the pod or its ServiceAccount
/// opts out (`automountServiceAccountToken: false`), a projected `kube-api-access-<suffix>`
/// volume (a bound token, the cluster CA and the namespace) is added and mounted read-only
/// at `/var/run/secrets/kubernetes.io/serviceaccount` in every container.
public struct ServiceAccountAdmission: AdmissionPlugin {
    public let name = "ServiceAccount"
    public static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    /// kubelet-refreshed tokens live an hour (3607 s, as kube's projected default).
    static let tokenExpirationSeconds: Int64 = 3607
    static let mirrorAnnotation = "kubernetes.io/config.mirror"

    public init() {}

    public func admit(_ a: inout AdmissionAttributes, registry: Registry) async throws {
        guard a.operation == .create, a.subresource == nil, a.resource.group.isEmpty, a.resource.resource == "pods",
              var pod = a.object, pod[path: ["metadata", "annotations", Self.mirrorAnnotation]] == nil else { return }
        var accountName = pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? ""
        if accountName.isEmpty { accountName = pod[path: ["spec", "serviceAccount"]]?.stringValue ?? "" }
        if accountName.isEmpty { accountName = "default" }
        pod[path: ["spec", "serviceAccountName"]] = .string(accountName)
        pod[path: ["spec", "serviceAccount"]] = .string(accountName)
        let namespace = a.namespace ?? "default"
        guard let accounts = registry.catalog.resource(group: "", version: "v1", resource: "serviceaccounts") else { return }
        // The namespace controller makes `default` right after the namespace: wait for it a
        // little, as kube-apiserver does (ten tries, 100–200 ms apart).
        var account: JSONValue?
        for attempt in 0..<(accountName == "default" ? 10 : 1) {
            do {
                account = try await registry.get(accounts, namespace: namespace, name: accountName)
                break
            } catch let e as APIError where e.code == 404 {
                if attempt < 9, accountName == "default" { try await Task.sleep(for: .milliseconds(Int.random(in: 100...200))) }
            }
        }
        guard let account else {
            throw a.forbidden("error looking up service account \(namespace)/\(accountName): serviceaccount \"\(accountName)\" not found")
        }
        let automount = pod[path: ["spec", "automountServiceAccountToken"]]?.boolValue
            ?? account["automountServiceAccountToken"]?.boolValue ?? true
        if automount { Self.mountToken(&pod) }
        a.object = pod
    }

    /// Adds the `kube-api-access-*` volume and its mounts, unless a container already mounts
    /// something at the ServiceAccount path.
    static func mountToken(_ pod: inout JSONValue) {
        var volumes = pod[path: ["spec", "volumes"]]?.arrayValue ?? []
        let names = Set(volumes.compactMap { $0["name"]?.stringValue })
        var volumeName = "kube-api-access-" + Registry.randomSuffix()
        while names.contains(volumeName) { volumeName = "kube-api-access-" + Registry.randomSuffix() }
        var mounted = false
        for kind in ["initContainers", "containers"] {
            guard var containers = pod[path: ["spec", kind]]?.arrayValue else { continue }
            for i in containers.indices {
                var mounts = containers[i]["volumeMounts"]?.arrayValue ?? []
                if mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath }) { continue }
                mounts.append(["name": .string(volumeName), "readOnly": true, "mountPath": .string(mountPath)])
                containers[i]["volumeMounts"] = .array(mounts)
                mounted = true
            }
            pod[path: ["spec", kind]] = .array(containers)
        }
        guard mounted else { return }
        volumes.append([
            "name": .string(volumeName),
            "projected": [
                "defaultMode": 420,
                "sources": [
                    ["serviceAccountToken": ["expirationSeconds": .int(tokenExpirationSeconds), "path": "token"]],
                    ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                    ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
                ],
            ],
        ])
        pod[path: ["spec", "volumes"]] = .array(volumes)
    }
}
