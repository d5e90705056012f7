import Foundation
import OrcaAPI
import Testing

@Suite("IntOrString")
struct IntOrStringTests {
    private struct Holder: Codable, Equatable {
        var port: IntOrString?
    }

    @Test(arguments: [
        (#"{"port":8080}"#, IntOrString.int(8080)),
        (#"{"port":"http"}"#, IntOrString.string("http")),
        (#"{"port":"25%"}"#, IntOrString.string("25%")),
        (#"{"port":"80"}"#, IntOrString.string("80")),
    ])
    func roundTrips(json: String, expected: IntOrString) throws {
        let holder = try JSONDecoder().decode(Holder.self, from: Data(json.utf8))
        #expect(holder.port == expected)
        #expect(String(decoding: try JSONEncoder().encode(holder), as: UTF8.self) == json)
    }

    @Test(arguments: [#"{"port":true}"#, #"{"port":1.5}"#, #"{"port":4294967296}"#, #"{"port":{}}"#])
    func rejectsOtherValues(json: String) {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Holder.self, from: Data(json.utf8)) }
    }

    @Test func literalsAndAccessors() {
        let number: IntOrString = 3
        let name: IntOrString = "metrics"
        #expect(number.intValue == 3 && number.stringValue == nil)
        #expect(name.stringValue == "metrics" && name.intValue == nil)
        #expect(number.description == "3" && name.description == "metrics")
    }

    @Test(arguments: [
        (IntOrString.int(2), 10, true, 2 as Int?),
        (.string("25%"), 10, true, 3),
        (.string("25%"), 10, false, 2),
        (.string("100%"), 7, false, 7),
        (.string("0%"), 7, true, 0),
        (.string("abc"), 7, true, nil),
    ])
    func scalesPercentages(value: IntOrString, total: Int, roundUp: Bool, expected: Int?) {
        #expect(value.scaledValue(total: total, roundUp: roundUp) == expected)
    }
}
