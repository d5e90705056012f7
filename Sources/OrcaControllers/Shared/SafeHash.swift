/// The short hashes controllers put in names and labels (`pod-template-hash`, ControllerRevision
/// names): FNV-1a 32 of some bytes, its decimal digits mapped into Kubernetes' `SafeEncodeString`
/// alphabet (no vowels, no confusable digits), so no word is ever spelled by accident.
public enum SafeHash {
    /// `k8s.io/apimachinery/pkg/util/rand` alphanums: what `SafeEncodeString` maps into.
    public static let alphabet = "bcdfghjklmnpqrstvwxz2456789"
    static let letters = Array(alphabet.unicodeScalars)

    /// FNV-1a, 32 bits (Go's `hash/fnv.New32a`).
    public static func fnv1a32<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    /// `rand.SafeEncodeString`: each character mapped to `alphabet[scalar % 27]`.
    public static func safeEncode(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { out.append(letters[Int(scalar.value % UInt32(letters.count))]) }
        return String(out)
    }

    /// The safe-encoded hash of `bytes`.
    public static func encoded<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        safeEncode(String(fnv1a32(bytes)))
    }
}
