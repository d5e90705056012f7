import Foundation
import Testing

/// Custom resources end to end with kubectl: a CustomResourceDefinition serving v1 (stored)
/// and v2, converted by a webhook served over HTTPS on loopback (objects written in either
/// version read in both; a webhook that is down makes reads in the other version a 500 that
/// names it); server-side apply by two managers merging a list by its map keys.
@Suite(.serialized) struct CustomResourceE2ETests {
    /// v1 `spec.cronSpec` is v2 `spec.schedule`; every other field is carried as it is.
    static let webhook = #"""
    def convert(obj, desired):
        spec = dict(obj.get("spec") or {})
        if desired.endswith("/v2") and "cronSpec" in spec:
            spec["schedule"] = spec.pop("cronSpec")
        if desired.endswith("/v1") and "schedule" in spec:
            spec["cronSpec"] = spec.pop("schedule")
        out = dict(obj)
        out["spec"] = spec
        out["apiVersion"] = desired
        return out
    def answer(review):
        request = review["request"]
        response = {"uid": request["uid"], "result": {"status": "Success"},
                    "convertedObjects": [convert(o, request["desiredAPIVersion"]) for o in request["objects"]]}
        return {"apiVersion": review["apiVersion"], "kind": "ConversionReview", "response": response}
    """#

    static func definition(url: String, caBundle: String) -> String {
        """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: crontabs.stable.example.com}
        spec:
          group: stable.example.com
          scope: Namespaced
          names: {plural: crontabs, kind: CronTab, shortNames: [ct]}
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec: {type: object, properties: {cronSpec: {type: string}, image: {type: string}}}
          - name: v2
            served: true
            storage: false
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec: {type: object, properties: {schedule: {type: string}, image: {type: string}}}
          conversion:
            strategy: Webhook
            webhook:
              conversionReviewVersions: [v1]
              clientConfig: {url: "\(url)", caBundle: "\(caBundle)"}
        """
    }

    @Test func aConversionWebhookServesEveryVersion() throws {
        let hook = try LoopbackHTTPSWebhook(answer: Self.webhook, name: "conversion")
        defer { hook.stop() }
        let s = try OrcaServerProcess()
        defer { s.stop() }
        _ = try s.k("apply", "-f", "-", stdin: Self.definition(url: hook.url("/convert"), caBundle: hook.caBundle))
        _ = try s.k("wait", "--for=condition=Established", "crd/crontabs.stable.example.com", "--timeout=30s")

        // Written in v1 (stored as is), read in v2 through the webhook.
        _ = try s.k("apply", "-f", "-", stdin: """
            {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "a"},
             "spec": {"cronSpec": "*/5 * * * *", "image": "img"}}
            """)
        #expect(try s.k("get", "crontabs.v2.stable.example.com", "a", "-o", "jsonpath={.apiVersion} {.spec.schedule} {.spec.image}")
            == "stable.example.com/v2 */5 * * * * img")
        // Written in v2 (stored in v1 through the webhook), read in v1.
        _ = try s.k("create", "-f", "-", stdin: """
            {"apiVersion": "stable.example.com/v2", "kind": "CronTab", "metadata": {"name": "b", "labels": {"made": "v2"}},
             "spec": {"schedule": "1 * * * *"}}
            """)
        #expect(try s.k("get", "crontabs.v1.stable.example.com", "b", "-o", "jsonpath={.spec.cronSpec}") == "1 * * * *")
        // A list converts every item; the preferred version (v2) is kubectl's default.
        #expect(try s.k("get", "ct", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.schedule};{end}")
            == "a=*/5 * * * *;b=1 * * * *;")
        // Label selectors and patches work through the other version.
        #expect(try s.k("get", "ct", "-l", "made=v2", "-o", "name").trimmingCharacters(in: .whitespacesAndNewlines)
            == "crontab.stable.example.com/b")
        _ = try s.k("patch", "crontabs.v2.stable.example.com", "a", "--type=merge", "-p", #"{"spec":{"schedule":"2 * * * *"}}"#)
        #expect(try s.k("get", "crontabs.v1.stable.example.com", "a", "-o", "jsonpath={.spec.cronSpec}") == "2 * * * *")

        // With the webhook down, reads in v2 fail with a 500 naming it; v1 still reads.
        hook.stop()
        let down = try s.kubectl(["get", "crontabs.v2.stable.example.com", "a"])
        #expect(down.status != 0)
        #expect(down.err.contains("conversion webhook for stable.example.com/v1, Kind=CronTab failed"), "\(down.err)")
        #expect(try s.k("get", "crontabs.v1.stable.example.com", "a", "-o", "jsonpath={.spec.cronSpec}") == "2 * * * *")
    }

    @Test func serverSideApplyMergesListMapsByTheirKeys() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        _ = try s.k("apply", "-f", "-", stdin: """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: gateways.net.example.com}
            spec:
              group: net.example.com
              scope: Namespaced
              names: {plural: gateways, kind: Gateway}
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec:
                        type: object
                        properties:
                          listeners:
                            type: array
                            x-kubernetes-list-type: map
                            x-kubernetes-list-map-keys: [name, protocol]
                            items:
                              type: object
                              required: [name, protocol]
                              properties: {name: {type: string}, protocol: {type: string}, port: {type: integer}}
                          hosts: {type: array, x-kubernetes-list-type: set, items: {type: string}}
            """)
        _ = try s.k("wait", "--for=condition=Established", "crd/gateways.net.example.com", "--timeout=30s")
        func gateway(_ listener: String, port: Int, host: String) -> String {
            """
            {"apiVersion": "net.example.com/v1", "kind": "Gateway", "metadata": {"name": "gw"},
             "spec": {"listeners": [{"name": "\(listener)", "protocol": "TCP", "port": \(port)}], "hosts": ["\(host)"]}}
            """
        }
        _ = try s.k("apply", "--server-side", "--field-manager=web", "-f", "-", stdin: gateway("web", port: 80, host: "a.example"))
        _ = try s.k("apply", "--server-side", "--field-manager=mail", "-f", "-", stdin: gateway("mail", port: 25, host: "b.example"))
        #expect(try s.k("get", "gateway", "gw", "-o", "jsonpath={range .spec.listeners[*]}{.name}:{.port} {end}") == "web:80 mail:25 ")
        #expect(try s.k("get", "gateway", "gw", "-o", "jsonpath={.spec.hosts}") == #"["a.example","b.example"]"#)
        // The same manager applying again changes its own item in place.
        _ = try s.k("apply", "--server-side", "--field-manager=web", "-f", "-", stdin: gateway("web", port: 8080, host: "a.example"))
        #expect(try s.k("get", "gateway", "gw", "-o", "jsonpath={range .spec.listeners[*]}{.name}:{.port} {end}") == "web:8080 mail:25 ")
        let managers = try s.k("get", "gateway", "gw", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
        #expect(managers.contains("web") && managers.contains("mail"), "\(managers)")
    }
}
