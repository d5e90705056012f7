import Foundation
import OrcaAPI
import Testing

@Suite("Quantity")
struct QuantityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var input: String
        var canonical: String
        var value: Int64
        var milliValue: Int64
        var double: Double
        var testDescription: String { input }
    }

    @Test(arguments: [
        Case(input: "100m", canonical: "100m", value: 1, milliValue: 100, double: 0.1),
        Case(input: "1Gi", canonical: "1Gi", value: 1_073_741_824, milliValue: 1_073_741_824_000, double: 1_073_741_824),
        Case(input: "128974848", canonical: "128974848", value: 128_974_848, milliValue: 128_974_848_000, double: 128_974_848),
        Case(input: "129e6", canonical: "129e6", value: 129_000_000, milliValue: 129_000_000_000, double: 129e6),
        Case(input: "129M", canonical: "129M", value: 129_000_000, milliValue: 129_000_000_000, double: 129e6),
        Case(input: "123Mi", canonical: "123Mi", value: 128_974_848, milliValue: 128_974_848_000, double: 128_974_848),
        Case(input: "0", canonical: "0", value: 0, milliValue: 0, double: 0),
        Case(input: "-0", canonical: "0", value: 0, milliValue: 0, double: 0),
        Case(input: "1", canonical: "1", value: 1, milliValue: 1000, double: 1),
        Case(input: "+2", canonical: "2", value: 2, milliValue: 2000, double: 2),
        Case(input: "1000", canonical: "1k", value: 1000, milliValue: 1_000_000, double: 1000),
        Case(input: "1000m", canonical: "1", value: 1, milliValue: 1000, double: 1),
        Case(input: "1.5", canonical: "1500m", value: 2, milliValue: 1500, double: 1.5),
        Case(input: "0.5", canonical: "500m", value: 1, milliValue: 500, double: 0.5),
        Case(input: ".5", canonical: "500m", value: 1, milliValue: 500, double: 0.5),
        Case(input: "1.5Gi", canonical: "1536Mi", value: 1_610_612_736, milliValue: 1_610_612_736_000, double: 1_610_612_736),
        Case(input: "2048Ki", canonical: "2Mi", value: 2_097_152, milliValue: 2_097_152_000, double: 2_097_152),
        Case(input: "0.5Ki", canonical: "512", value: 512, milliValue: 512_000, double: 512),
        Case(input: "1Ki", canonical: "1Ki", value: 1024, milliValue: 1_024_000, double: 1024),
        Case(input: "1k", canonical: "1k", value: 1000, milliValue: 1_000_000, double: 1000),
        Case(input: "250u", canonical: "250u", value: 1, milliValue: 1, double: 0.00025),
        Case(input: "1n", canonical: "1n", value: 1, milliValue: 1, double: 1e-9),
        Case(input: "0.1n", canonical: "1n", value: 1, milliValue: 1, double: 1e-9),
        Case(input: "0.1m", canonical: "100u", value: 1, milliValue: 1, double: 0.0001),
        Case(input: "-100m", canonical: "-100m", value: -1, milliValue: -100, double: -0.1),
        Case(input: "1E", canonical: "1E", value: 1_000_000_000_000_000_000, milliValue: Int64.max, double: 1e18),
        Case(input: "1e3", canonical: "1e3", value: 1000, milliValue: 1_000_000, double: 1000),
        Case(input: "1.5e3", canonical: "1500", value: 1500, milliValue: 1_500_000, double: 1500),
        Case(input: "12E-1", canonical: "1200e-3", value: 2, milliValue: 1200, double: 1.2),
        Case(input: "5.", canonical: "5", value: 5, milliValue: 5000, double: 5),
        Case(input: "8Ei", canonical: "9223372036854775807", value: Int64.max, milliValue: Int64.max, double: 9.223372036854775807e18),
    ])
    func parses(_ c: Case) throws {
        let quantity = try Quantity(parsing: c.input)
        #expect(quantity.string == c.canonical)
        #expect(quantity.value == c.value)
        #expect(quantity.milliValue == c.milliValue)
        #expect(abs(quantity.doubleValue - c.double) <= abs(c.double) * 1e-12)
        #expect(Quantity(stringLiteral: c.input) == quantity)
    }

    @Test(arguments: ["", "abc", "1.2.3", "1 Gi", "1Gb", "1e", "1ee3", "--1", "Mi", "1KiB", ".", "-", "1e3.5"])
    func rejectsMalformed(_ input: String) {
        #expect(throws: OrcaError.self) { try Quantity(parsing: input) }
        let literal = Quantity(input)
        #expect(literal.string == input && !literal.isValid && literal.value == 0)
    }

    private struct Resources: Codable, Equatable {
        var limits: [String: Quantity]?
    }

    @Test func codesAsCanonicalStringAndAcceptsNumbers() throws {
        let json = #"{"limits":{"cpu":1.5,"memory":"1024Mi","pods":110,"storage":"10G"}}"#
        let resources = try JSONDecoder().decode(Resources.self, from: Data(json.utf8))
        #expect(resources.limits?["cpu"] == "1500m")
        #expect(resources.limits?["memory"] == "1Gi")
        #expect(resources.limits?["pods"]?.value == 110)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(resources), as: UTF8.self)
            == #"{"limits":{"cpu":"1500m","memory":"1Gi","pods":"110","storage":"10G"}}"#)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Resources.self, from: Data(#"{"limits":{"cpu":"lots"}}"#.utf8))
        }
    }

    @Test func buildsFromIntegers() {
        #expect(Quantity(milliValue: 250).string == "250m")
        #expect(Quantity(milliValue: 2000).string == "2")
        #expect(Quantity(value: 4 * 1024 * 1024 * 1024, format: .binarySI).string == "4Gi")
        #expect(Quantity(value: 1_500_000).string == "1500k")
        #expect(Quantity(value: 0).isZero)
    }
}
