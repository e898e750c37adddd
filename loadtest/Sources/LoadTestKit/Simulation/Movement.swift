import Geo

/// Moves a car along a straight line toward a target at a steady speed.
public enum Movement {
    /// Where a car at `position` heading for `target` is after `seconds` at `metersPerSecond`.
    /// - Returns: The new position and whether it reached the target (it never overshoots).
    public static func advance(
        from position: Coordinate,
        toward target: Coordinate,
        metersPerSecond: Double,
        seconds: Double
    ) -> (position: Coordinate, arrived: Bool) {
        let remaining = position.distance(to: target).value
        let step = metersPerSecond * max(seconds, 0)
        if step >= remaining { return (target, true) }
        if step == 0 { return (position, false) }
        let moved = position.destination(bearing: position.bearing(to: target), distance: Meters(step))
        return (moved, false)
    }
}
