import Foundation
import OrcaAPI
import Testing
@testable import OrcaAgent

/// The Service environment variables (`envvars.FromServices`, `getServiceEnvVarMap`).
@Suite struct ServiceEnvironmentTests {
    static func service(_ ns: String, _ name: String, ip: String?, ports: [ServicePort]) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: ns), spec: ServiceSpec(clusterIP: ip, ports: ports))
    }

    static let services = [
        service("default", "kubernetes", ip: "10.43.0.1", ports: [ServicePort(name: "https", port: 443, protocol: "TCP")]),
        service("shop", "web-front", ip: "10.43.5.6", ports: [ServicePort(name: "http", port: 80, protocol: "TCP"),
                                                            ServicePort(name: "dns", port: 53, protocol: "UDP")]),
        service("shop", "headless", ip: "None", ports: [ServicePort(port: 80)]),
        service("shop", "external", ip: nil, ports: []),
        service("other", "elsewhere", ip: "10.43.9.9", ports: [ServicePort(port: 80)]),
    ]

    @Test func servicesOfThePodsNamespaceAndTheMasterService() {
        let env = Dictionary(ServiceEnvironment.variables(services: Self.services, namespace: "shop", enableServiceLinks: true),
                             uniquingKeysWith: { a, _ in a })
        #expect(env["WEB_FRONT_SERVICE_HOST"] == "10.43.5.6")
        #expect(env["WEB_FRONT_SERVICE_PORT"] == "80")
        #expect(env["WEB_FRONT_SERVICE_PORT_HTTP"] == "80")
        #expect(env["WEB_FRONT_SERVICE_PORT_DNS"] == "53")
        #expect(env["WEB_FRONT_PORT"] == "tcp://10.43.5.6:80")
        #expect(env["WEB_FRONT_PORT_53_UDP"] == "udp://10.43.5.6:53")
        #expect(env["WEB_FRONT_PORT_53_UDP_PROTO"] == "udp")
        #expect(env["WEB_FRONT_PORT_53_UDP_PORT"] == "53")
        #expect(env["WEB_FRONT_PORT_53_UDP_ADDR"] == "10.43.5.6")
        #expect(env["KUBERNETES_SERVICE_HOST"] == "10.43.0.1")
        #expect(env["KUBERNETES_SERVICE_PORT"] == "443")
        #expect(env["KUBERNETES_PORT_443_TCP"] == "tcp://10.43.0.1:443")
        // Headless, IP-less and other namespaces' Services give nothing.
        #expect(env.keys.allSatisfy { !$0.hasPrefix("HEADLESS_") && !$0.hasPrefix("EXTERNAL_") && !$0.hasPrefix("ELSEWHERE_") })
    }

    @Test func enableServiceLinksFalseKeepsOnlyTheMasterService() {
        let env = ServiceEnvironment.variables(services: Self.services, namespace: "shop", enableServiceLinks: false)
        #expect(!env.isEmpty)
        #expect(env.allSatisfy { $0.0.hasPrefix("KUBERNETES_") })
    }

    @Test func aKubernetesServiceOfThePodsNamespaceWins() {
        let own = Self.service("shop", "kubernetes", ip: "10.43.7.7", ports: [ServicePort(port: 8443)])
        for order in [Self.services + [own], [own] + Self.services] {
            let env = Dictionary(ServiceEnvironment.variables(services: order, namespace: "shop", enableServiceLinks: true),
                                 uniquingKeysWith: { a, _ in a })
            #expect(env["KUBERNETES_SERVICE_HOST"] == "10.43.7.7")
        }
    }
}
