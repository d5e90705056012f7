import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Label and field selector parsing and matching, and the list options built from a query.
@Suite struct SelectorParsingTests {
    typealias Op = LabelMatcher.Operator

    /// (selector text, parsed requirements as key/operator/values)
    static let labelCases: [(String, [(String, Op, [String])])] = [
        ("", []),
        ("app=web", [("app", .equals, ["web"])]),
        ("app==web", [("app", .equals, ["web"])]),
        ("app!=web", [("app", .notEquals, ["web"])]),
        ("app = web", [("app", .equals, ["web"])]),
        ("env in (prod, staging)", [("env", .in, ["prod", "staging"])]),
        ("env notin (dev)", [("env", .notIn, ["dev"])]),
        ("tier", [("tier", .exists, [])]),
        ("!legacy", [("legacy", .doesNotExist, [])]),
        ("example.com/role=db,tier,!old", [("example.com/role", .equals, ["db"]), ("tier", .exists, []), ("old", .doesNotExist, [])]),
        ("app=", [("app", .equals, [""])]),
    ]

    @Test(arguments: labelCases)
    func labelSelectorsParse(text: String, expected: [(String, Op, [String])]) throws {
        let m = try LabelMatcher(parsing: text)
        #expect(m.requirements.count == expected.count)
        for (r, e) in zip(m.requirements, expected) {
            #expect(r.key == e.0)
            #expect(r.op == e.1)
            #expect(r.values == e.2)
        }
    }

    static let badLabelSelectors = ["app=we b", "env in prod", "!", "a b", "bad key=x", "app=web,,x y"]

    @Test(arguments: badLabelSelectors)
    func badLabelSelectorsThrow(text: String) {
        #expect(throws: (any Error).self) { try LabelMatcher(parsing: text) }
    }

    /// (selector, labels, matches)
    static let matchCases: [(String, [String: String], Bool)] = [
        ("app=web", ["app": "web"], true),
        ("app=web", ["app": "db"], false),
        ("app=web", [:], false),
        ("app!=web", [:], true),
        ("app!=web", ["app": "web"], false),
        ("env in (a,b)", ["env": "b"], true),
        ("env notin (a,b)", ["env": "c"], true),
        ("env notin (a,b)", [:], true),
        ("tier", ["tier": ""], true),
        ("!tier", ["tier": "x"], false),
        ("app=web,tier=fe", ["app": "web", "tier": "fe"], true),
        ("app=web,tier=fe", ["app": "web"], false),
    ]

    @Test(arguments: matchCases)
    func labelSelectorsMatch(text: String, labels: [String: String], matches: Bool) throws {
        #expect(try LabelMatcher(parsing: text).matches(labels) == matches)
    }

    @Test func labelSelectorObjectsConvert() throws {
        let m = try LabelMatcher(object: json(#"{"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe"]}, {"key": "old", "operator": "DoesNotExist"}]}"#))
        #expect(m.matches(["app": "web", "tier": "fe"]))
        #expect(!m.matches(["app": "web", "tier": "fe", "old": "1"]))
        #expect(throws: (any Error).self) { try LabelMatcher(object: json(#"{"matchExpressions": [{"key": "a", "operator": "Near"}]}"#)) }
    }

    /// (selector, (field, equals, value))
    static let fieldCases: [(String, [(String, Bool, String)])] = [
        ("metadata.name=web", [("metadata.name", true, "web")]),
        ("metadata.name==web", [("metadata.name", true, "web")]),
        ("spec.nodeName!=", [("spec.nodeName", false, "")]),
        ("status.phase=Running,spec.nodeName=n1", [("status.phase", true, "Running"), ("spec.nodeName", true, "n1")]),
    ]

    @Test(arguments: fieldCases)
    func fieldSelectorsParse(text: String, expected: [(String, Bool, String)]) throws {
        let m = try FieldMatcher(parsing: text)
        #expect(m.requirements.map(\.field) == expected.map(\.0))
        #expect(m.requirements.map(\.equals) == expected.map(\.1))
        #expect(m.requirements.map(\.value) == expected.map(\.2))
    }

    @Test func fieldSelectorsReadDottedPaths() throws {
        let pod = json(#"{"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}"#)
        #expect(try FieldMatcher(parsing: "spec.nodeName=n1,status.phase=Running").matches(pod))
        #expect(try FieldMatcher(parsing: "spec.nodeName!=").matches(pod))
        #expect(!(try FieldMatcher(parsing: "metadata.namespace=default").matches(pod)))
        #expect(try FieldMatcher(parsing: "spec.missing=").matches(pod), "a missing field reads as empty")
        #expect(throws: (any Error).self) { try FieldMatcher(parsing: "nonsense") }
    }

    // MARK: list options

    /// (query, HTTP code of the error)
    static let badQueries: [([String: String], Int)] = [
        (["limit": "-1"], 400),
        (["limit": "ten"], 400),
        (["labelSelector": "a in b"], 400),
        (["fieldSelector": "nonsense"], 400),
        (["resourceVersion": "abc"], 400),
        (["resourceVersionMatch": "Exact"], 422),
        (["resourceVersionMatch": "Sometimes", "resourceVersion": "1"], 422),
    ]

    @Test(arguments: badQueries)
    func badListQueriesAreRejected(query: [String: String], code: Int) async {
        let e = await apiError { _ = try ListOptions(query: query) }
        #expect(e?.code == code)
    }

    @Test func listQueriesParse() throws {
        let o = try ListOptions(query: ["labelSelector": "app=web", "fieldSelector": "metadata.name=x", "limit": "5",
                                        "continue": "abc", "watch": "true", "allowWatchBookmarks": "1", "timeoutSeconds": "30"])
        #expect(o.labelSelector.requirements.count == 1)
        #expect(o.fieldSelector.requirements.count == 1)
        #expect(o.limit == 5)
        #expect(o.continueToken == "abc")
        #expect(o.watch && o.allowWatchBookmarks)
        #expect(o.timeoutSeconds == 30)
        #expect(try ListOptions(query: ["limit": "0"]).limit == nil, "limit 0 means no limit")
    }
}
