import OrcaAPI

/// Where a webhook's `clientConfig.service` is reached (kube-apiserver's endpoint service
/// resolver, `ResolveEndpoint`): the Service's port numbered `port` gives a port name; a ready
/// endpoint of the Service's EndpointSlices is called at the slice port of that name (the
/// Service port's `targetPort` as the endpoint controllers resolved it).
struct WebhookServiceResolver: Sendable {
    /// An address and port to connect to.
    struct Target: Sendable, Equatable {
        var address: String
        var port: Int
    }

    /// Why no endpoint could be chosen, in kube's words (`no endpoints available for service "x"`).
    struct Failure: Error, Sendable {
        var message: String
    }

    let registry: Registry

    /// A ready endpoint of `service` for Service port `port`, chosen at random among the ready ones.
    func resolve(namespace: String, name: String, port: Int) async throws -> Target {
        let catalog = registry.catalog
        guard let services = catalog.resource(group: "", version: "v1", resource: "services"),
              let slices = catalog.resource(group: "discovery.k8s.io", version: "v1", resource: "endpointslices") else {
            throw Failure(message: "no endpoints available for service \(GoFormat.quote(name))")
        }
        let service: JSONValue
        do { service = try await registry.get(services, namespace: namespace, name: name) } catch let e as APIError where e.code == 404 {
            throw Failure(message: "service \(GoFormat.quote(name)) not found")
        }
        let type = service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        guard ["ClusterIP", "LoadBalancer", "NodePort"].contains(type) else {
            throw Failure(message: "unsupported service type \(GoFormat.quote(type))")
        }
        let ports = service[path: ["spec", "ports"]]?.arrayValue ?? []
        guard let servicePort = ports.first(where: { $0["port"]?.intValue == Int64(port) }) else {
            throw Failure(message: "no service port \(port) found for service \(GoFormat.quote(name))")
        }
        let portName = servicePort["name"]?.stringValue ?? ""
        var options = ListOptions()
        options.labelSelector = LabelMatcher(requirements: [.init(key: WellKnownEndpointLabels.serviceName, op: .equals, values: [name])])
        let list = try await registry.list(slices, namespace: namespace, options: options)
        var candidates: [Target] = []
        for slice in list["items"]?.arrayValue ?? [] {
            let slicePort = (slice["ports"]?.arrayValue ?? []).first { ($0["name"]?.stringValue ?? "") == portName }
            guard let number = slicePort?["port"]?.intValue else { continue }
            for endpoint in slice["endpoints"]?.arrayValue ?? [] where endpoint[path: ["conditions", "ready"]]?.boolValue != false {
                if let address = endpoint["addresses"]?.arrayValue?.first?.stringValue {
                    candidates.append(Target(address: address, port: Int(number)))
                }
            }
        }
        guard let target = candidates.randomElement() else {
            throw Failure(message: "no endpoints available for service \(GoFormat.quote(name))")
        }
        return target
    }
}
