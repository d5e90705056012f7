import Foundation
import OrcaFuzzing

/// The harness libFuzzer drives: `ORCA_FUZZ_TARGET` names the `FuzzTarget` (e.g. `json-body`).
let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["ORCA_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("ORCA_FUZZ_TARGET must be one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    target.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
