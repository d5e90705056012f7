import Foundation
import OrcaCore

/// Query parameters of list and watch requests.
public struct ListOptions: Sendable {
    public var labelSelector = LabelMatcher.everything
    public var fieldSelector = FieldMatcher.everything
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?
    /// `Exact` or `NotOlderThan` (or nil).
    public var resourceVersionMatch: String?
    public var watch = false
    public var allowWatchBookmarks = false
    public var timeoutSeconds: Int?
    public var sendInitialEvents: Bool?

    public init() {}

    /// True for a query flag set to `true`, `True` or `1`.
    public static func flag(_ v: String?) -> Bool {
        guard let v else { return false }
        return v == "true" || v == "1" || v == "True"
    }

    /// The options as query parameters, in the form the API server parses them back
    /// (`labelSelector=app%3Dweb` once percent-encoded); unset options are left out.
    public var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        if !labelSelector.isEmpty { items.append(("labelSelector", labelSelector.description)) }
        if !fieldSelector.isEmpty { items.append(("fieldSelector", fieldSelector.description)) }
        if let limit, limit > 0 { items.append(("limit", String(limit))) }
        if let continueToken, !continueToken.isEmpty { items.append(("continue", continueToken)) }
        if let resourceVersion, !resourceVersion.isEmpty { items.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch, !resourceVersionMatch.isEmpty { items.append(("resourceVersionMatch", resourceVersionMatch)) }
        if watch { items.append(("watch", "true")) }
        if allowWatchBookmarks { items.append(("allowWatchBookmarks", "true")) }
        if let timeoutSeconds { items.append(("timeoutSeconds", String(timeoutSeconds))) }
        if let sendInitialEvents { items.append(("sendInitialEvents", sendInitialEvents ? "true" : "false")) }
        return items
    }

    /// True if `object` passes both selectors.
    public func matches(_ object: JSONValue) -> Bool {
        (labelSelector.isEmpty || labelSelector.matches(object.labels)) &&
            (fieldSelector.isEmpty || fieldSelector.matches(object))
    }
}
