import OrcaCore

extension OrcaError.Code {
    /// A DNS message is not valid wire format: truncated, a bad label or pointer, a length
    /// that does not match its data. The cluster DNS answers such a query with FORMERR.
    public static let dnsMalformed = OrcaError.Code("DNSMalformed")
}
