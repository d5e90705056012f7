import ArgumentParser

/// Node names are DNS-1123 subdomains (lower-case alphanumerics, `-` and `.`, at most 253
/// characters, starting and ending alphanumeric), as Kubernetes validates them.
enum NodeName {
    static func validate(_ name: String, option: String = "--node-name") throws {
        let allowed = name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
        let edges = name.utf8.first.map(isAlphanumeric) == true && name.utf8.last.map(isAlphanumeric) == true
        guard !name.isEmpty, name.utf8.count <= 253, allowed, edges else {
            throw ValidationError("\(option) \"\(name)\" must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters")
        }
    }

    static func isAlphanumeric(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
}
