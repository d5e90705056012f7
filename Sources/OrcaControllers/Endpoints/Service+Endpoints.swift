import Foundation
import OrcaClient

/// What the endpoint controllers read from a Service.
extension Service {
    /// The selector of a Service whose endpoints the controllers compute from pods: nil for a
    /// Service without a selector (or an empty one) and for an `ExternalName` Service, whose
    /// endpoints are someone else's (or nobody's).
    var podSelector: [String: String]? {
        guard spec?.type != "ExternalName", let selector = spec?.selector, !selector.isEmpty else { return nil }
        return selector
    }

    /// The selector as a matcher (nil as `podSelector`).
    var podMatcher: LabelMatcher? {
        guard let selector = podSelector else { return nil }
        return LabelMatcher(requirements: selector.sorted { $0.key < $1.key }.map {
            LabelMatcher.Requirement(key: $0.key, op: .equals, values: [$0.value])
        })
    }

    /// Whether this Service's selector picks `pod` (same namespace, matching labels).
    func selects(_ pod: Pod) -> Bool {
        guard pod.metadata?.namespace == metadata?.namespace, let matcher = podMatcher else { return false }
        return matcher.matches(pod.metadata?.labels ?? [:])
    }

    /// No cluster IP: `None` or empty (`!IsServiceIPSet`).
    var isHeadless: Bool {
        let ip = spec?.clusterIP ?? ""
        return ip.isEmpty || ip == "None"
    }

    /// `spec.publishNotReadyAddresses`.
    var publishesNotReadyAddresses: Bool { spec?.publishNotReadyAddresses == true }

    /// The EndpointSlice address types this Service takes (`getAddressTypesForService`): its
    /// `ipFamilies`; without them the family of its cluster IP; a headless Service without
    /// families takes both.
    var endpointAddressTypes: [String] {
        var types: [String] = []
        for family in spec?.ipFamilies ?? [] where family == EndpointIP.ipv4 || family == EndpointIP.ipv6 {
            if !types.contains(family) { types.append(family) }
        }
        if !types.isEmpty { return types.sorted() }
        if !isHeadless, let ip = spec?.clusterIP {
            return [EndpointIP(ip)?.isIPv6 == true ? EndpointIP.ipv6 : EndpointIP.ipv4]
        }
        return [EndpointIP.ipv4, EndpointIP.ipv6]
    }

    /// The IP family of a Service's legacy Endpoints addresses (`podToEndpointAddressForService`):
    /// its first `ipFamilies` entry, else its cluster IP's family; nil for a headless Service
    /// without families (then each pod's `status.podIP` decides).
    var endpointsIPFamily: String? {
        if let first = spec?.ipFamilies?.first { return first }
        if !isHeadless, let ip = spec?.clusterIP { return EndpointIP(ip)?.isIPv6 == true ? EndpointIP.ipv6 : EndpointIP.ipv4 }
        return nil
    }

    /// The service ports the endpoints carry, resolved for `pod` (`getEndpointPorts`): a port
    /// whose target the pod does not expose, or with an unknown protocol, is left out.
    func resolvedPorts(for pod: Pod) -> [(servicePort: ServicePort, port: Int32)] {
        var result: [(ServicePort, Int32)] = []
        for servicePort in spec?.ports ?? [] {
            guard Self.protocols.contains(servicePort.protocol ?? "TCP"), let port = pod.targetPort(for: servicePort) else { continue }
            result.append((servicePort, port))
        }
        return result
    }

    /// The EndpointSlice ports of `pod`'s endpoint: name (`""` when none), resolved port,
    /// protocol, appProtocol.
    func discoveryPorts(for pod: Pod) -> [DiscoveryV1EndpointPort] {
        resolvedPorts(for: pod).map {
            DiscoveryV1EndpointPort(appProtocol: $0.servicePort.appProtocol, name: $0.servicePort.name ?? "", port: $0.port,
                                    protocol: $0.servicePort.protocol ?? "TCP")
        }
    }

    /// The labels of this Service's EndpointSlices (`setEndpointSliceLabels`): the Service's own
    /// labels but the reserved ones, the headless marker when it has no cluster IP, the
    /// Service name and the managing controller.
    func endpointSliceLabels(managedBy: String) -> [String: String] {
        var labels = (metadata?.labels ?? [:]).filter { !Self.reservedSliceLabels.contains($0.key) }
        if isHeadless { labels[WellKnownEndpointLabels.headlessService] = "" }
        labels[WellKnownEndpointLabels.serviceName] = metadata?.name ?? ""
        labels[WellKnownEndpointLabels.managedBy] = managedBy
        return labels
    }

    /// The labels of this Service's Endpoints: the Service's labels, the headless marker when
    /// it has no cluster IP, and the managing controller.
    var endpointsLabels: [String: String] {
        var labels = metadata?.labels ?? [:]
        if isHeadless { labels[WellKnownEndpointLabels.headlessService] = "" } else { labels[WellKnownEndpointLabels.headlessService] = nil }
        labels[WellKnownEndpointLabels.endpointsManagedBy] = WellKnownEndpointLabels.endpointsController
        return labels
    }

    /// Labels the EndpointSlice controller sets itself, never copied from the Service.
    static let reservedSliceLabels: Set<String> = [
        WellKnownEndpointLabels.serviceName, WellKnownEndpointLabels.managedBy, WellKnownEndpointLabels.headlessService,
    ]

    /// The protocols an endpoint port may have.
    static let protocols: Set<String> = ["TCP", "UDP", "SCTP"]
}
