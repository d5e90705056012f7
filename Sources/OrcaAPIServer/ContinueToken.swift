import Foundation
import OrcaAPI

/// The opaque `continue` token of a paged list: the revision of the first page and the last key.
struct ContinueToken: Codable {
    var rv: Int64
    var start: String

    /// The `rv` of a token that continues at the latest revision (kube's -1).
    static let latest: Int64 = -1

    var encoded: String {
        let data = try! JSONEncoder().encode(self)
        return data.base64EncodedString()
    }

    init(rv: Int64, start: String) {
        self.rv = rv
        self.start = start
    }

    init(decoding token: String) throws {
        guard let data = Data(base64Encoded: token),
              let t = try? JSONDecoder().decode(ContinueToken.self, from: data) else {
            throw APIError.badRequest("continue key is not valid: illegal base64 data")
        }
        self = t
    }
}
