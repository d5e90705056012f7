import Foundation
import OrcaAPI

/// The kubelet's `/logs/` endpoint: the node's log directory (`/var/log`) served as Go's
/// `http.FileServer` serves it — a directory as a `<pre>` list of links (subdirectories end in
/// `/`), a file as its bytes. Reached only by the API server (`nodes/proxy/logs/…`); a path with
/// `..` or outside the root is 404.
struct NodeLogFiles: Sendable {
    /// What a request gets.
    enum Answer: Equatable {
        /// A directory listing (HTML, as Go writes it).
        case listing(String)
        /// A file to stream.
        case file(String)
    }

    let root: String

    init(root: String = "/var/log") {
        self.root = root
    }

    /// The answer for the path segments after `logs`; 404 for what is not there.
    func answer(_ segments: [String]) throws -> Answer {
        guard !segments.contains(where: { $0 == ".." || $0 == "." || $0.contains("\0") }) else { throw Self.notFound }
        let path = ([root] + segments).joined(separator: "/")
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let base = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        guard resolved == base || resolved.hasPrefix(base + "/") else { throw Self.notFound }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else { throw Self.notFound }
        guard isDirectory.boolValue else { return .file(resolved) }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: resolved)) ?? []
        var html = "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n"
        for entry in entries.sorted() {
            var dir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: resolved + "/" + entry, isDirectory: &dir)
            let name = entry + (dir.boolValue ? "/" : "")
            let href = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
            html += "<a href=\"\(href)\">\(Self.escape(name))</a>\n"
        }
        return .listing(html + "</pre>\n")
    }

    /// Go's file server's answer for what is not there (or not to be shown).
    private static let notFound = APIError(code: 404, reason: "NotFound", message: "404 page not found")

    /// HTML text escaping, as Go's `htmlReplacer`.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&#34;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
