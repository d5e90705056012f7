import Foundation
import OrcaAPI

/// The columns of CertificateSigningRequests as kubectl shows them (Kubernetes'
/// `printCertificateSigningRequest`).
enum CertificatePrinter {
    typealias Column = TableConvertor.Column

    /// `Approved,Issued`, `Pending`, `Denied` …: the final conditions, then `Issued` when a
    /// certificate is there.
    static func condition(_ o: JSONValue) -> String {
        var parts: [String] = []
        for c in o[path: ["status", "conditions"]]?.arrayValue ?? [] {
            if let t = c["type"]?.stringValue, ["Approved", "Denied", "Failed"].contains(t), !parts.contains(t) { parts.append(t) }
        }
        if let cert = o[path: ["status", "certificate"]]?.stringValue, !cert.isEmpty { parts.append("Issued") }
        return parts.isEmpty ? "Pending" : parts.joined(separator: ",")
    }

    static let certificateSigningRequests: [Column] = [
        TableConvertor.nameColumn,
        TableConvertor.ageColumn,
        Column(name: "SignerName", description: "signerName indicates the requested signer, and is a qualified name.") { o, _ in
            .string(TableConvertor.str(o, "spec.signerName"))
        },
        Column(name: "Requestor", description: "username contains the name of the user that created the CertificateSigningRequest.") { o, _ in
            .string(TableConvertor.str(o, "spec.username"))
        },
        Column(name: "RequestedDuration", description: "expirationSeconds is the requested duration of validity of the issued certificate.") { o, _ in
            guard let s = o[path: ["spec", "expirationSeconds"]]?.intValue else { return "<none>" }
            return .string(TableConvertor.humanDuration(TimeInterval(s)))
        },
        Column(name: "Condition", description: "Condition of the request") { o, _ in .string(condition(o)) },
    ]
}
