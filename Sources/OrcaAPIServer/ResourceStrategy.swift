import Foundation
import OrcaAPI

/// What the registry needs to know to create, update and delete one kind of object:
/// defaulting, validation and the split between spec and status (Kubernetes' rest strategy).
public protocol ResourceStrategy: Sendable {
    /// Fills defaults and clears what clients may not set on create (e.g. status).
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws
    /// Carries over what an update of the main resource may not change (e.g. status).
    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws
    /// The bad fields of an object (empty when valid). `old` is set on update.
    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause]
    /// Warnings for the client (`Warning` header), e.g. fields Orca does not implement yet.
    func warnings(_ object: JSONValue) -> [String]
}

/// Facts a strategy may use (injected time, the resource, who asks).
public struct StrategyContext: Sendable {
    public var resource: ResourceType
    public var now: Date
    /// The authenticated user of the request; nil for the server's own writes.
    public var user: UserInfo?
}

extension ResourceStrategy {
    public func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {}
    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {}
    public func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] { [] }
    public func warnings(_ object: JSONValue) -> [String] { [] }
}

/// The default strategy: no extra defaults, generic metadata validation only.
public struct GenericStrategy: ResourceStrategy {
    public init() {}
}
