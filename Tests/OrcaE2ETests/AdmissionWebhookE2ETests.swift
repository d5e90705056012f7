import Foundation
import Testing

/// Issue 14's webhook acceptance, end to end: a validating webhook served over HTTPS on
/// loopback (Python's `ssl` with a certificate `openssl` makes for the test), registered by URL
/// with its `caBundle`, refuses labelled ConfigMaps created with kubectl and lets the others
/// through; once it is down, `failurePolicy: Fail` refuses and `Ignore` lets through.
@Suite(.serialized) struct AdmissionWebhookE2ETests {
    /// Answers every AdmissionReview: refused when the object carries the label `deny`.
    static let webhook = #"""
    def answer(review):
        request = review["request"]
        labels = (request.get("object") or {}).get("metadata", {}).get("labels") or {}
        response = {"uid": request["uid"], "allowed": "deny" not in labels}
        if "deny" in labels:
            response["status"] = {"code": 403, "message": "labelled objects are refused"}
        return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
    """#

    static func configuration(_ name: String, url: String, caBundle: String, failurePolicy: String) -> String {
        """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata: {name: \(name)}
        webhooks:
        - name: deny.orca.test
          clientConfig: {url: "\(url)", caBundle: "\(caBundle)"}
          rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
          namespaceSelector: {matchLabels: {hooked: "yes"}}
          failurePolicy: \(failurePolicy)
          timeoutSeconds: 5
          sideEffects: None
          admissionReviewVersions: [v1]
        """
    }

    @Test func aValidatingWebhookByURLRefusesLabelledObjects() throws {
        let hook = try LoopbackHTTPSWebhook(answer: Self.webhook, name: "webhook")
        defer { hook.stop() }
        let url = hook.url("/validate"), caBundle = hook.caBundle

        let s = try OrcaServerProcess()
        defer { s.stop() }
        _ = try s.k("create", "namespace", "hooked")
        _ = try s.k("label", "namespace", "hooked", "hooked=yes")
        _ = try s.k("apply", "-f", "-", stdin: Self.configuration("deny", url: url, caBundle: caBundle, failurePolicy: "Fail"))
        // The configuration reaches the admission chain within a moment.
        let labelled = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bad","namespace":"hooked","labels":{"deny":"yes"}}}"#
        try s.eventually("the webhook refuses a labelled ConfigMap", timeout: 30) {
            let r = try s.kubectl(["create", "-f", "-"], stdin: labelled)
            return r.status != 0 && r.err.contains("admission webhook \"deny.orca.test\" denied the request: labelled objects are refused")
        }
        #expect(try s.kubectl(["get", "configmap", "bad", "-n", "hooked"]).status != 0)
        // Unlabelled objects pass, and other namespaces are not sent to the webhook.
        _ = try s.k("create", "configmap", "good", "-n", "hooked")
        let elsewhere = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"elsewhere","namespace":"default","labels":{"deny":"yes"}}}"#
        _ = try s.k("create", "-f", "-", stdin: elsewhere)

        // A webhook that is down: Fail refuses, Ignore lets through.
        hook.stop()
        let refused = try s.kubectl(["create", "configmap", "down-fail", "-n", "hooked"])
        #expect(refused.status != 0)
        #expect(refused.err.contains("failed calling webhook \"deny.orca.test\""))
        _ = try s.k("apply", "-f", "-", stdin: Self.configuration("deny", url: url, caBundle: caBundle, failurePolicy: "Ignore"))
        try s.eventually("Ignore lets creates through while the webhook is down", timeout: 30) {
            try s.kubectl(["create", "configmap", "down-ignore", "-n", "hooked"]).status == 0
        }
    }
}
