/// A Kubernetes resource quantity such as `"100m"`, `"128Mi"` or `"129e6"`, held as
/// its string form.
///
/// Parsing follows `k8s.io/apimachinery/pkg/api/resource`: a signed decimal number
/// and a suffix — binary (`Ki Mi Gi Ti Pi Ei`), decimal (`n u m "" k M G T P E`) or an
/// exponent (`e3`, `E-2`). The value is exact (no floating point), rounded up to the
/// nearest nano unit. A valid quantity is stored in Kubernetes' canonical form
/// (`"1.5"` → `"1500m"`, `"1.5Gi"` → `"1536Mi"`, `"1000"` → `"1k"`), so decoding and
/// re-encoding an object gives what the kube-apiserver would.
public struct Quantity: Codable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// How a quantity is written; remembered from the suffix it was parsed with.
    public enum Format: Sendable, Hashable {
        /// `Ki Mi Gi Ti Pi Ei`
        case binarySI
        /// `n u m "" k M G T P E`
        case decimalSI
        /// `e<exponent>`
        case decimalExponent
    }

    /// The string form: canonical when valid, otherwise as given.
    public let string: String

    /// Wraps `string`, canonicalized if it parses; an invalid string is kept as is
    /// and has value 0 (use `init(parsing:)` to reject it).
    public init(_ string: String) {
        if let parsed = try? Parsed(parsing: string) {
            self.string = parsed.canonical
        } else {
            self.string = string
        }
    }

    /// Parses and canonicalizes `string`; throws `OrcaError` (`.invalid`) if malformed.
    public init(parsing string: String) throws {
        self.string = try Parsed(parsing: string).canonical
    }

    /// A quantity of `value` base units.
    public init(value: Int64, format: Format = .decimalSI) {
        self.string = Parsed(integer: value, exponent: 0, format: format).canonical
    }

    /// A quantity of `milliValue` thousandths of a base unit.
    public init(milliValue: Int64, format: Format = .decimalSI) {
        self.string = Parsed(integer: milliValue, exponent: -3, format: format).canonical
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int64.self) {
            text = String(integer)
        } else if let number = try? container.decode(Double.self) {
            text = String(number)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "quantity must be a string or a number")
        }
        do {
            self.string = try Parsed(parsing: text).canonical
        } catch let error as OrcaError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }

    public var description: String { string }

    /// Whether the string parses as a quantity.
    public var isValid: Bool { parsed != nil }

    /// The format the quantity is written in (nil if invalid).
    public var format: Format? { parsed?.format }

    /// The value in base units, rounded away from zero to an integer (Kubernetes
    /// `Value()`): `"100m"` → 1, `"1Gi"` → 1073741824. Saturates at the Int64 range;
    /// 0 if invalid.
    public var value: Int64 { scaledValue(0) }

    /// The value in thousandths of a base unit, rounded away from zero (Kubernetes
    /// `MilliValue()`): `"100m"` → 100, `"2"` → 2000. Saturates; 0 if invalid.
    public var milliValue: Int64 { scaledValue(-3) }

    /// The value in base units as a Double (approximate): `"100m"` → 0.1.
    public var doubleValue: Double { parsed?.doubleValue ?? 0 }

    /// The value in units of 10^`scale`, rounded away from zero (Kubernetes `ScaledValue`).
    public func scaledValue(_ scale: Int) -> Int64 {
        parsed?.scaledValue(scale) ?? 0
    }

    /// -1, 0 or 1 as this quantity is less than, equal to or greater than `other`, exactly
    /// (no rounding or saturation); an invalid quantity counts as zero.
    public func compare(to other: Quantity) -> Int {
        let zero = Parsed(integer: 0, exponent: 0, format: .decimalSI)
        let a = parsed ?? zero
        let b = other.parsed ?? zero
        if a.magnitude == 0 && b.magnitude == 0 { return 0 }
        if a.negative != b.negative { return a.negative ? -1 : 1 }
        let m = a.compareMagnitudes(b)
        return a.negative ? -m : m
    }

    /// Whether the value is zero (an invalid quantity counts as zero).
    public var isZero: Bool { parsed?.magnitude ?? 0 == 0 }

    private var parsed: Parsed? { try? Parsed(parsing: string) }
}

extension Quantity {
    /// An exact quantity: ±`magnitude` × 10^`exponent`, in `format`.
    struct Parsed {
        var negative: Bool
        var magnitude: UInt128
        var exponent: Int
        var format: Format

        static let formatError = OrcaError(
            .invalid, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        static let suffixError = OrcaError(.invalid, "unable to parse quantity's suffix")
        static let numericError = OrcaError(.invalid, "quantity is too large or too precise to represent")

        static let decimalSuffixes: [String: Int] = [
            "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
        ]
        static let binarySuffixes: [String: Int] = ["Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6]

        init(integer: Int64, exponent: Int, format: Format) {
            self.negative = integer < 0
            self.magnitude = UInt128(integer.magnitude)
            self.exponent = exponent
            self.format = format
            normalize()
        }

        init(parsing text: String) throws {
            var chars = Substring(text)
            guard !chars.isEmpty else { throw Self.formatError }
            negative = false
            if chars.first == "-" || chars.first == "+" {
                negative = chars.first == "-"
                chars = chars.dropFirst()
            }
            let whole = chars.prefix(while: \.isASCIIDigit)
            chars = chars.dropFirst(whole.count)
            var fraction: Substring = ""
            if chars.first == "." {
                chars = chars.dropFirst()
                fraction = chars.prefix(while: \.isASCIIDigit)
                chars = chars.dropFirst(fraction.count)
            }
            guard !whole.isEmpty || !fraction.isEmpty else { throw Self.formatError }
            let suffix = String(chars)

            var decimalExponent = 0
            var binaryPower = 0
            if let exp = Self.decimalSuffixes[suffix] {
                decimalExponent = exp
                format = .decimalSI
            } else if let power = Self.binarySuffixes[suffix] {
                binaryPower = power
                format = .binarySI
            } else if suffix.count > 1, suffix.first == "e" || suffix.first == "E" {
                let number = suffix.dropFirst()
                let digits = number.first == "-" || number.first == "+" ? number.dropFirst() : number
                guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { throw Self.formatError }
                guard let exp = Int32(number) else { throw Self.suffixError }
                decimalExponent = Int(exp)
                format = .decimalExponent
            } else {
                let allowed = "eEinumkKMGTP+-0123456789"
                throw suffix.allSatisfy({ allowed.contains($0) }) ? Self.suffixError : Self.formatError
            }

            // Significant digits and their power of ten.
            var digits = Substring(String(whole) + String(fraction)).drop(while: { $0 == "0" })
            var exponent = decimalExponent - fraction.count
            while digits.last == "0" {
                digits = digits.dropLast()
                exponent += 1
            }
            // Round up (away from zero) to nano units before converting, when decimal.
            var roundUp = false
            if binaryPower == 0, exponent < -9 {
                let drop = min(-9 - exponent, digits.count)
                roundUp = digits.suffix(drop).contains { $0 != "0" }
                digits = digits.dropLast(drop)
                exponent = -9
            }
            guard digits.count <= 38, var magnitude = digits.isEmpty ? 0 : UInt128(digits) else {
                throw Self.numericError
            }
            if roundUp { magnitude += 1 }
            if binaryPower > 0 {
                let (product, overflow) = magnitude.multipliedReportingOverflow(by: UInt128(1) << (10 * binaryPower))
                guard !overflow else { throw Self.numericError }
                magnitude = product
            }
            self.magnitude = magnitude
            self.exponent = exponent
            normalize()
        }

        /// Rounds up to nano units, caps binary quantities at Int64.max, and switches a
        /// binary quantity below 1 to decimal, as Kubernetes' ParseQuantity does.
        mutating func normalize() {
            if magnitude == 0 {
                negative = false
                exponent = 0
                return
            }
            if exponent < -9 {
                magnitude = Self.divideRoundingUp(magnitude, byPowerOfTen: -9 - exponent)
                exponent = -9
            }
            while magnitude % 10 == 0 {
                magnitude /= 10
                exponent += 1
            }
            if format == .binarySI {
                let max = UInt128(Int64.max)
                if compareMagnitude(to: max) > 0 {
                    magnitude = max
                    exponent = 0
                }
                if compareMagnitude(to: 1) < 0 {
                    format = .decimalSI
                }
            }
        }

        /// Compares |self| with |other|, aligning exponents in 128 bits (a side that overflows
        /// when scaled up is the larger).
        func compareMagnitudes(_ other: Parsed) -> Int {
            if magnitude == 0 || other.magnitude == 0 {
                return magnitude == other.magnitude ? 0 : (magnitude == 0 ? -1 : 1)
            }
            let low = min(exponent, other.exponent)
            func scaled(_ p: Parsed) -> UInt128? {
                let shift = p.exponent - low
                guard shift <= 38 else { return nil }
                let (v, overflow) = p.magnitude.multipliedReportingOverflow(by: Self.powerOfTen(shift))
                return overflow ? nil : v
            }
            switch (scaled(self), scaled(other)) {
            case let (x?, y?): return x == y ? 0 : (x < y ? -1 : 1)
            case (nil, _?): return 1
            case (_?, nil): return -1
            case (nil, nil): return exponent == other.exponent ? 0 : (exponent < other.exponent ? -1 : 1)
            }
        }

        /// Compares |self| with an integer.
        func compareMagnitude(to other: UInt128) -> Int {
            if exponent >= 0 {
                guard exponent <= 38 else { return 1 }
                let (scaled, overflow) = magnitude.multipliedReportingOverflow(by: Self.powerOfTen(exponent))
                if overflow { return 1 }
                return scaled == other ? 0 : (scaled < other ? -1 : 1)
            }
            guard -exponent <= 38 else { return other == 0 ? 1 : -1 }
            let (scaledOther, overflow) = other.multipliedReportingOverflow(by: Self.powerOfTen(-exponent))
            if overflow { return -1 }
            return magnitude == scaledOther ? 0 : (magnitude < scaledOther ? -1 : 1)
        }

        var doubleValue: Double {
            let value = Double("\(magnitude)e\(exponent)") ?? 0
            return negative ? -value : value
        }

        func scaledValue(_ scale: Int) -> Int64 {
            let shift = exponent - scale
            var result: UInt128
            if shift >= 0 {
                if magnitude == 0 { return 0 }
                guard shift <= 38 else { return negative ? Int64.min : Int64.max }
                let (product, overflow) = magnitude.multipliedReportingOverflow(by: Self.powerOfTen(shift))
                guard !overflow else { return negative ? Int64.min : Int64.max }
                result = product
            } else {
                result = Self.divideRoundingUp(magnitude, byPowerOfTen: -shift)
            }
            if negative {
                return result > UInt128(Int64.max) + 1 ? Int64.min : Int64(truncatingIfNeeded: 0 &- result)
            }
            return result > UInt128(Int64.max) ? Int64.max : Int64(result)
        }

        /// The canonical string (Kubernetes `CanonicalizeBytes`).
        var canonical: String {
            if magnitude == 0 { return "0" }
            let sign = negative ? "-" : ""
            if format == .binarySI, compareMagnitude(to: 1024) >= 0, exponent >= 0 {
                // An integer of at least 1024: as many factors of 1024 as possible.
                var value = magnitude * Self.powerOfTen(exponent)
                var power = 0
                while power < 6, value % 1024 == 0 {
                    value /= 1024
                    power += 1
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power]
                return sign + String(value) + suffix
            }
            // Decimal: the exponent rounded down to a multiple of three.
            var exp = exponent
            var digits = String(magnitude)
            switch exp % 3 {
            case 1, -2:
                digits += "0"
                exp -= 1
            case 2, -1:
                digits += "00"
                exp -= 2
            default:
                break
            }
            if format == .decimalExponent {
                return sign + digits + (exp == 0 ? "" : "e\(exp)")
            }
            if let suffix = Self.decimalSuffixes.first(where: { $0.value == exp })?.key {
                return sign + digits + suffix
            }
            return sign + digits + "e\(exp)"
        }

        static func powerOfTen(_ n: Int) -> UInt128 {
            var result: UInt128 = 1
            for _ in 0..<n { result *= 10 }
            return result
        }

        /// ceil(value / 10^n) for a non-negative value.
        static func divideRoundingUp(_ value: UInt128, byPowerOfTen n: Int) -> UInt128 {
            if value == 0 { return 0 }
            guard n <= 38 else { return 1 }
            let divisor = powerOfTen(n)
            let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
            return remainder == 0 ? quotient : quotient + 1
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
