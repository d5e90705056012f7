import Foundation
import OrcaAPI
import OrcaPKI

/// `certificates.k8s.io/v1` CertificateSigningRequests: the requester's identity is recorded
/// from the authenticated user at create (`spec.username`, `uid`, `groups`, `extra`), the spec
/// never changes afterwards, and the request must be a PKCS#10 request whose signature verifies.
struct CertificateSigningRequestStrategy: ResourceStrategy {
    static let usages = ["signing", "digital signature", "content commitment", "key encipherment", "key agreement",
                         "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
                         "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
                         "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"]

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        object["status"] = nil
        let user = context.user
        object[path: ["spec", "username"]] = user.map { .string($0.name) }
        object[path: ["spec", "uid"]] = nil
        object[path: ["spec", "groups"]] = user.map { .array($0.groups.map(JSONValue.string)) }
        object[path: ["spec", "extra"]] = nil
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        object["spec"] = old["spec"]
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        let spec = object["spec"] ?? [:]
        if let request = spec["request"]?.stringValue, !request.isEmpty {
            if let data = Data(base64Encoded: request), let pem = String(data: data, encoding: .utf8) {
                do { _ = try CertificateRequest(pem: pem) } catch {
                    causes.append(.invalid("spec.request", "[]byte{...}", "\(error)"))
                }
            } else {
                causes.append(.invalid("spec.request", "[]byte{...}", "PEM block type must be CERTIFICATE REQUEST"))
            }
        } else {
            causes.append(.required("spec.request"))
        }
        let signer = spec["signerName"]?.stringValue ?? ""
        if signer.isEmpty {
            causes.append(.required("spec.signerName"))
        } else if !signer.contains("/") {
            causes.append(.invalid("spec.signerName", signer, "must be a fully qualified domain and path of the form 'example.com/signer-name'"))
        }
        let usages = spec["usages"]?.arrayValue ?? []
        if usages.isEmpty { causes.append(.required("spec.usages")) }
        for (i, u) in usages.enumerated() {
            let word = u.stringValue ?? ""
            if !Self.usages.contains(word) { causes.append(.notSupported("spec.usages[\(i)]", word, Self.usages)) }
        }
        if let seconds = spec["expirationSeconds"]?.intValue, seconds < 600 {
            causes.append(.invalid("spec.expirationSeconds", String(seconds), "may not specify a duration less than 600 seconds (10 minutes)"))
        }
        if let old {
            // Approved and Denied are final, and never both.
            let types = Set((object[path: ["status", "conditions"]]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue })
            if types.contains("Approved"), types.contains("Denied") {
                causes.append(.invalid("status.conditions", "Approved", "Approved and Denied conditions are mutually exclusive"))
            }
            let oldTypes = Set((old[path: ["status", "conditions"]]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue })
            for final in ["Approved", "Denied"] where oldTypes.contains(final) && !types.contains(final) {
                causes.append(.forbidden("status.conditions", "updates may not remove a condition of type \"\(final)\""))
            }
            if let cert = old[path: ["status", "certificate"]]?.stringValue, !cert.isEmpty,
               object[path: ["status", "certificate"]]?.stringValue != cert {
                causes.append(.invalid("status.certificate", "[]byte{...}", "updates may not modify existing certificate content"))
            }
        }
        return causes
    }
}
