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

    /// True if `object` passes both selectors.
    public func matches(_ object: JSONValue) -> Bool {
        (labelSelector.isEmpty || labelSelector.matches(object.labels)) &&
            (fieldSelector.isEmpty || fieldSelector.matches(object))
    }
}
