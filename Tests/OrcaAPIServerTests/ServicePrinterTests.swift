import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// kubectl's columns for Services, Endpoints and EndpointSlices.
@Suite struct ServicePrinterTests {
    @Test func externalIPByType() {
        #expect(ServicePrinter.externalIP(json(#"{"spec":{"type":"ClusterIP"}}"#), wide: false) == "<none>")
        #expect(ServicePrinter.externalIP(json(#"{"spec":{"type":"NodePort","externalIPs":["192.0.2.1"]}}"#), wide: false) == "192.0.2.1")
        #expect(ServicePrinter.externalIP(json(#"{"spec":{"type":"LoadBalancer"}}"#), wide: false) == "<pending>")
        #expect(ServicePrinter.externalIP(json(#"{"spec":{"type":"LoadBalancer","externalIPs":["192.0.2.9"]},"status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.2"}]}}}"#),
                                          wide: false) == "10.0.0.2,192.0.2.9")
        #expect(ServicePrinter.externalIP(json(#"{"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.2"},{"ip":"10.0.0.3"},{"ip":"10.0.0.4"}]}}}"#),
                                          wide: false) == "10.0.0.2,10.0...")
        #expect(ServicePrinter.externalIP(json(#"{"spec":{"type":"ExternalName","externalName":"example.com"}}"#), wide: false) == "example.com")
    }

    @Test func endpointsShowThreeAndCountTheRest() {
        let e = json(#"{"subsets":[{"addresses":[{"ip":"10.42.0.5"},{"ip":"10.42.0.6"}],"ports":[{"port":80},{"port":443}]}]}"#)
        #expect(ServicePrinter.formatEndpoints(e) == "10.42.0.5:80,10.42.0.6:80,10.42.0.5:443 + 1 more...")
        #expect(ServicePrinter.formatEndpoints(json(#"{}"#)) == "<none>")
        #expect(ServicePrinter.firstThree([]) == "<unset>")
        #expect(ServicePrinter.firstThree(["a", "b", "c", "d", "e"]) == "a,b,c + 2 more...")
    }
}
