/// Finds YAML aliases that refer to an anchor in the same text, in one linear pass and
/// without parsing, so that an alias bomb ("billion laughs": a few hundred bytes whose aliases
/// expand to gigabytes) is refused before the YAML library expands it.
///
/// Anchors (`&name`) and aliases (`*name`) are read as libyaml reads their tokens: the sigil at
/// the start of a token (after a blank, a line start or one of `[{,:?-`) followed by name
/// characters. Quoted scalars and comments are skipped; anything else may over-report (a `*x`
/// inside a block scalar that also has an `&x`), never under-report.
enum YAMLAliasScan {
    /// The name of the first alias whose anchor is also in `bytes`, or nil.
    static func firstResolvedAlias(in bytes: [UInt8]) -> String? {
        var anchors = Set<ArraySlice<UInt8>>()
        var aliases: [ArraySlice<UInt8>] = []
        var i = 0
        var previous: UInt8 = 10
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "#") where isBoundary(previous):
                while i < n, bytes[i] != 10 { i += 1 }
                previous = 10
                continue
            case UInt8(ascii: "\"") where isBoundary(previous), UInt8(ascii: "'") where isBoundary(previous):
                i = skipQuoted(bytes, from: i)
                previous = UInt8(ascii: "\"")
                continue
            case UInt8(ascii: "&") where isBoundary(previous), UInt8(ascii: "*") where isBoundary(previous):
                var j = i + 1
                while j < n, isNameCharacter(bytes[j]) { j += 1 }
                if j > i + 1 {
                    let name = bytes[(i + 1)..<j]
                    if c == UInt8(ascii: "&") { anchors.insert(name) } else { aliases.append(name) }
                }
                previous = j > i + 1 ? bytes[j - 1] : c
                i = j
                continue
            default:
                break
            }
            previous = c
            i += 1
        }
        guard let hit = aliases.first(where: anchors.contains) else { return nil }
        return String(decoding: hit, as: UTF8.self)
    }

    private static func isBoundary(_ c: UInt8) -> Bool {
        switch c {
        case 32, 9, 10, 13, UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":"),
             UInt8(ascii: "?"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    private static func isNameCharacter(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c >= 0x80
    }

    /// The index after the quoted scalar starting at `start` (`''` and `\"` escapes honoured).
    private static func skipQuoted(_ bytes: [UInt8], from start: Int) -> Int {
        let quote = bytes[start]
        var i = start + 1
        while i < bytes.count {
            let c = bytes[i]
            if quote == UInt8(ascii: "\""), c == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if c == quote {
                if quote == UInt8(ascii: "'"), i + 1 < bytes.count, bytes[i + 1] == quote {
                    i += 2
                    continue
                }
                return i + 1
            }
            i += 1
        }
        return i
    }
}
