/// A value that is either an int32 or a string on the wire, such as a port
/// (`8080` or `"http"`) or a rolling-update bound (`1` or `"25%"`).
public enum IntOrString: Codable, Sendable, Hashable {
    case int(Int32)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int32.self) {
            self = .int(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "IntOrString must be an int32 or a string")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }

    /// The integer, if this holds one.
    public var intValue: Int32? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The string, if this holds one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Resolves an absolute value or a percentage of `total` (Kubernetes'
    /// `GetScaledValueFromIntOrPercent`): `.int(n)` is `n`; `.string("25%")` is 25% of
    /// `total`, rounded up or down. Returns nil for a string that is not `<int>%`.
    public func scaledValue(total: Int, roundUp: Bool) -> Int? {
        switch self {
        case .int(let value):
            return Int(value)
        case .string(let text):
            guard text.hasSuffix("%"), let percent = Int(text.dropLast()) else { return nil }
            let product = percent * total
            if roundUp {
                return product >= 0 ? (product + 99) / 100 : -((-product) / 100)
            }
            return product >= 0 ? product / 100 : -((-product + 99) / 100)
        }
    }
}

extension IntOrString: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int32) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}

extension IntOrString: CustomStringConvertible {
    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .string(let value): return value
        }
    }
}
