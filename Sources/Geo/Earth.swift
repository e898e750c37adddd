/// Constants of the spherical Earth model used throughout the service.
///
/// Dispatch compares candidates a few kilometres apart, so a sphere is accurate enough: it differs
/// from the WGS 84 ellipsoid by about 0.05 %, the same model Redis GEO and H3 use.
public enum Earth {
    /// The mean Earth radius (IUGG), 6,371,008.8 m.
    public static let meanRadius = Meters(6_371_008.8)
}
