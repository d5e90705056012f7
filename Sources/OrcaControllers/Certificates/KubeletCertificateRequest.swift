import Foundation
import OrcaClient
import OrcaPKI

/// The signers kube-controller-manager serves and what a node may ask of them.
enum KubeletCertificateRequest {
    /// Client certificates of kubelets (`system:node:<name>` in `system:nodes`).
    static let clientSigner = "kubernetes.io/kube-apiserver-client-kubelet"
    /// Serving certificates of kubelets (port 10250).
    static let servingSigner = "kubernetes.io/kubelet-serving"
    /// Client certificates for the API server in general.
    static let apiServerClientSigner = "kubernetes.io/kube-apiserver-client"

    static let clientUsages: Set<String> = ["digital signature", "key encipherment", "client auth"]
    static let servingUsages: Set<String> = ["digital signature", "key encipherment", "server auth"]

    /// The PKCS#10 request of a CSR (`spec.request` is base64 of the PEM), or nil.
    static func parse(_ csr: CertificateSigningRequest) -> CertificateRequest? {
        guard let b64 = csr.spec?.request, let data = Data(base64Encoded: b64),
              let pem = String(data: data, encoding: .utf8) else { return nil }
        return try? CertificateRequest(pem: pem)
    }

    /// Whether the request is a node's client certificate request (`ValidateKubeletClientCSR`):
    /// CN `system:node:<name>`, organization exactly `system:nodes`, no alternative names, and
    /// the client usages ("client auth" required).
    static func isNodeClient(_ request: CertificateRequest, usages: [String]) -> Bool {
        let s = request.subject
        return s.commonName.hasPrefix("system:node:") && s.commonName.count > "system:node:".count
            && s.organizations == ["system:nodes"] && s.dnsNames.isEmpty && s.ipAddresses.isEmpty
            && usages.contains("client auth") && Set(usages).isSubset(of: clientUsages)
    }

    /// Whether the request is a node's serving certificate request (`ValidateKubeletServingCSR`):
    /// CN `system:node:<name>`, organization exactly `system:nodes`, at least one DNS name or IP,
    /// and the serving usages ("server auth" required).
    static func isNodeServing(_ request: CertificateRequest, usages: [String]) -> Bool {
        let s = request.subject
        return s.commonName.hasPrefix("system:node:") && s.organizations == ["system:nodes"]
            && !(s.dnsNames.isEmpty && s.ipAddresses.isEmpty)
            && usages.contains("server auth") && Set(usages).isSubset(of: servingUsages)
    }

    /// Whether a final condition (Approved, Denied, Failed) is on the request.
    static func condition(_ csr: CertificateSigningRequest, _ type: String) -> Bool {
        (csr.status?.conditions ?? []).contains { $0.type == type && ($0.status ?? "True") == "True" }
    }
}
