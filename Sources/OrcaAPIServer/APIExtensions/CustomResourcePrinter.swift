import Foundation
import OrcaAPI

/// The Table columns of a custom resource (apiextensions-apiserver's table convertor): Name,
/// then the version's `additionalPrinterColumns`, or Age when it has none.
enum CustomResourcePrinter {
    static func columns(_ custom: CustomResource, _ r: ResourceType) -> [TableConvertor.Column] {
        let defined = custom.version(r)?.printerColumns ?? []
        if defined.isEmpty { return [TableConvertor.nameColumn, TableConvertor.ageColumn] }
        return [TableConvertor.nameColumn] + defined.map(column)
    }

    static func column(_ c: CustomResourceColumnDefinition) -> TableConvertor.Column {
        let path = c.jsonPath.flatMap(CustomResourceJSONPath.init)
        let type = c.type ?? "string"
        return TableConvertor.Column(name: c.name ?? "", type: type, format: c.format ?? "", priority: Int(c.priority ?? 0),
                                     description: c.description ?? "") { object, now in
            guard let value = path?.values(in: object).first else { return .null }
            return cell(value, type: type, now: now)
        }
    }

    /// `cellForJSONValue`: integers and numbers as numbers, dates as an age, strings as text.
    static func cell(_ value: JSONValue, type: String, now: Date) -> JSONValue {
        switch (type, value) {
        case ("integer", .int), ("number", .int), ("number", .double), ("boolean", .bool): return value
        case ("integer", .double(let d)) where d.rounded() == d && abs(d) < 9.2e18: return .int(Int64(d))
        case ("date", .string(let s)): return .string(TableConvertor.age(s, now: now))
        case ("string", .string): return value
        case ("string", .int(let i)): return .string(String(i))
        case ("string", .double(let d)): return .string(d.rounded() == d && abs(d) < 9.2e18 ? String(Int64(d)) : String(d))
        case ("string", .bool(let b)): return .string(String(b))
        case ("string", .object), ("string", .array): return .string(String(decoding: value.encoded(), as: UTF8.self))
        default: return .null
        }
    }
}
