import Foundation
import OrcaClient

/// Keeps namespaces usable and finishes their deletion: every namespace gets the
/// `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap; a namespace being
/// deleted is emptied of every namespaced object, then removed.
public struct NamespaceController: Reconciler {
    let client: any APIClient
    let caCertPEM: String
    var namespaces: SharedInformer<Namespace>?

    /// The namespaces that exist from the first start.
    public static let systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    public init(client: any APIClient, caCertPEM: String) {
        self.client = client
        self.caCertPEM = caCertPEM
    }

    /// Creates the system namespaces if missing.
    public func bootstrap() async throws {
        let namespaces = client.resource("namespaces")
        for name in Self.systemNamespaces {
            do {
                _ = try await client.create(namespaces, namespace: nil, object: ["metadata": ["name": .string(name)]])
            } catch let e as APIError where e.code == 409 {
                continue
            }
        }
    }

    /// Builds the namespace controller on `informers`.
    public func controller(informers: SharedInformerFactory, clock: any WallClock = SystemClock()) async -> Controller<NamespaceController> {
        let namespaces = await informers.informer(Namespace.self)
        let queue = RateLimitingQueue(clock: clock)
        await namespaces.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<Namespace>.key($0)) },
            onUpdate: { await queue.add(SharedInformer<Namespace>.key($1)) },
            onDelete: { await queue.add(SharedInformer<Namespace>.key($0)) }))
        var reconciler = self
        reconciler.namespaces = namespaces
        return Controller(name: "namespace", queue: queue, reconciler: reconciler, workers: 2,
                          waitForSync: [{ await namespaces.waitForSync() }])
    }

    public func reconcile(_ name: String) async throws -> ReconcileResult {
        guard let ns = await namespaces?.get(name) else { return .done }
        if ns.metadata?.deletionTimestamp != nil {
            if let again = try await finalize(name) { return .requeue(after: again) }
            return .done
        }
        if ns.status?.phase != "Active" {
            try await client.mergePatch(Namespace.self, namespace: nil, name: name, patch: ["status": ["phase": "Active"]], subresource: "status")
        }
        try await ensure(client.resource("serviceaccounts"), name, ["metadata": ["name": "default"]])
        try await ensure(client.resource("configmaps"), name,
                         ["metadata": ["name": "kube-root-ca.crt", "annotations": ["kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."]],
                          "data": ["ca.crt": .string(caCertPEM)]])
        return .done
    }

    func ensure(_ r: ResourceType, _ ns: String, _ object: JSONValue) async throws {
        do {
            _ = try await client.get(r, namespace: ns, name: object.metadataName ?? "")
        } catch let e as APIError where e.code == 404 {
            do { _ = try await client.create(r, namespace: ns, object: object) } catch let e as APIError where e.code == 409 || e.code == 403 {}
        }
    }

    /// Deletes the namespace's contents; removes the namespace when nothing is left.
    func finalize(_ name: String) async throws -> Duration? {
        var remaining = 0
        for r in client.catalog.resources where r.namespaced {
            let list = try await client.list(r, namespace: name, options: ListOptions())
            for item in list["items"]?.arrayValue ?? [] {
                remaining += 1
                if item.deletionTimestamp != nil { continue }
                var options = DeletionOptions()
                options.propagationPolicy = "Background"
                try? await client.delete(r, namespace: name, name: item.metadataName ?? "", options: options)
            }
        }
        if remaining > 0 { return .seconds(1) }
        _ = try await client.mergePatch(client.resource("namespaces"), namespace: nil, name: name,
                                        patch: ["spec": ["finalizers": []]], subresource: "finalize")
        return nil
    }
}

extension NamespaceController {
    /// The `kubernetes` Service in `default` (`serviceIP`:443, the service CIDR's first
    /// address) with its Endpoints and EndpointSlice pointing at the API server, as in-cluster
    /// clients expect; kept current as kube-apiserver's endpoint reconciler keeps them.
    public func ensureAPIService(hostIP: String, port: Int, serviceIP: String = "10.43.0.1") async throws {
        let services = client.resource("services")
        let service: JSONValue = [
            "metadata": ["name": "kubernetes", "labels": ["component": "apiserver", "provider": "kubernetes"]],
            "spec": ["type": "ClusterIP", "clusterIP": .string(serviceIP),
                     "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(port))]]],
        ]
        do { _ = try await client.create(services, namespace: "default", object: service) } catch let e as APIError where e.code == 409 {
            // Kept from an earlier start: the target port follows the API server's port.
            _ = try await client.mergePatch(services, namespace: "default", name: "kubernetes",
                                            patch: ["spec": ["ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(port))]]]],
                                            subresource: nil)
        }
        let endpoints: JSONValue = [
            "metadata": ["name": "kubernetes", "labels": ["endpointslice.kubernetes.io/skip-mirror": "true"]],
            "subsets": [["addresses": [["ip": .string(hostIP)]], "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]]]],
        ]
        try await createOrReplace(client.resource("endpoints"), endpoints)
        let slice: JSONValue = [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": ["name": "kubernetes", "labels": [WellKnownEndpointLabels.serviceName: "kubernetes"]],
            "addressType": "IPv4",
            "endpoints": [["addresses": [.string(hostIP)], "conditions": ["ready": true]]],
            "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]],
        ]
        try await createOrReplace(client.resource("endpointslices", group: "discovery.k8s.io"), slice)
    }

    private func createOrReplace(_ r: ResourceType, _ object: JSONValue) async throws {
        let name = object.metadataName ?? ""
        do { _ = try await client.create(r, namespace: "default", object: object) } catch let e as APIError where e.code == 409 {
            var replacement = object
            if let current = try? await client.get(r, namespace: "default", name: name) {
                replacement.resourceVersion = current.resourceVersion
            }
            _ = try await client.update(r, namespace: "default", name: name, object: replacement, subresource: nil)
        }
    }
}
