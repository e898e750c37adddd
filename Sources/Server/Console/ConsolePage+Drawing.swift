extension ConsolePage {
    /// The console script's panel (numbers, sparklines) and map (projection, fit, drawing); part of
    /// `script`, in the same scope.
    static let scriptDrawing = #"""
          // ---- the panel ----
          const seconds = (value) => value == null ? "–" : value < 0.001 ? Math.round(value * 1e6) + " µs"
            : value < 1 ? (value * 1000).toFixed(1) + " ms" : value.toFixed(2) + " s";
          function get(stats, path) {
            if (path === "leadership") {
              const l = stats.leadership;
              return l.role === "leader" ? (l.pod + " (epoch " + l.epoch + ")") : (l.pod + " is " + l.role);
            }
            if (path.startsWith("store.") && !stats.store) return "–";
            const parts = path.split(".");
            if (parts[0] === "matchLatency") return seconds(stats.matchLatencySeconds && stats.matchLatencySeconds[parts[1]]);
            if (parts[0] === "store" && parts[1] === "commit") return seconds(stats.store.commitSeconds && stats.store.commitSeconds[parts[2]]);
            let value = stats;
            for (const part of parts) value = value == null ? null : value[part];
            return value == null ? "–" : String(value);
          }
          const SPARKS = {
            requests: (s) => s.perMinute.requested, matches: (s) => s.perMinute.accepted,
            latency50: (s) => s.matchLatencySeconds && s.matchLatencySeconds.p50,
            latency99: (s) => s.matchLatencySeconds && s.matchLatencySeconds.p99,
            open: (s) => s.openRides, searching: (s) => s.searching, unfulfilled: (s) => s.perMinute.unfulfilled,
            queue: (s) => s.store && s.store.queuedEvents,
            commit50: (s) => s.store && s.store.commitSeconds && s.store.commitSeconds.p50,
            commit99: (s) => s.store && s.store.commitSeconds && s.store.commitSeconds.p99,
          };
          function renderPanel() {
            const stats = state.stats;
            if (!stats) return;
            for (const element of document.querySelectorAll("[data-stat]")) {
              element.textContent = get(stats, element.dataset.stat);
            }
            document.getElementById("region").textContent = "region " + stats.leadership.region;
            for (const spark of document.querySelectorAll("canvas[data-spark]")) {
              const pick = SPARKS[spark.dataset.spark];
              const values = history.map((s) => pick(s)).map((v) => v == null ? null : Number(v));
              drawSpark(spark, values);
            }
          }
          function drawSpark(spark, values) {
            const c = spark.getContext("2d"), w = spark.width, h = spark.height;
            c.clearRect(0, 0, w, h);
            const known = values.filter((v) => v != null);
            if (known.length < 2) return;
            const max = Math.max(...known), min = Math.min(0, ...known), span = max - min || 1;
            c.strokeStyle = COLORS.pickup; c.lineWidth = 1.5; c.beginPath();
            let started = false;
            values.forEach((v, i) => {
              if (v == null) { started = false; return; }
              const x = (i / Math.max(1, values.length - 1)) * (w - 2) + 1, y = h - 2 - ((v - min) / span) * (h - 4);
              if (started) c.lineTo(x, y); else { c.moveTo(x, y); started = true; }
            });
            c.stroke();
          }

          // ---- the map ----
          const METERS_PER_DEGREE = 111320;
          function project(lat, lon) {
            const k = Math.cos(view.lat * Math.PI / 180);
            return [canvas.clientWidth / 2 + (lon - view.lon) * METERS_PER_DEGREE * k / view.metersPerPixel,
                    canvas.clientHeight / 2 - (lat - view.lat) * METERS_PER_DEGREE / view.metersPerPixel];
          }
          function unproject(x, y) {
            const k = Math.cos(view.lat * Math.PI / 180);
            return [view.lat - (y - canvas.clientHeight / 2) * view.metersPerPixel / METERS_PER_DEGREE,
                    view.lon + (x - canvas.clientWidth / 2) * view.metersPerPixel / (METERS_PER_DEGREE * k)];
          }
          function fit() {
            let south, west, north, east;
            if (state.area) ({ south, west, north, east } = state.area);
            else {
              south = west = Infinity; north = east = -Infinity;
              for (const d of drivers.values()) {
                south = Math.min(south, d.lat); north = Math.max(north, d.lat);
                west = Math.min(west, d.lon); east = Math.max(east, d.lon);
              }
              if (!isFinite(south)) return;
            }
            view.lat = (south + north) / 2; view.lon = (west + east) / 2;
            const k = Math.cos(view.lat * Math.PI / 180);
            const width = Math.max(200, (east - west) * METERS_PER_DEGREE * k), height = Math.max(200, (north - south) * METERS_PER_DEGREE);
            view.metersPerPixel = Math.max(width / Math.max(1, canvas.clientWidth), height / Math.max(1, canvas.clientHeight)) * 1.08;
            view.fitted = true;
          }
          function resize() {
            const ratio = window.devicePixelRatio || 1;
            canvas.width = Math.round(canvas.clientWidth * ratio);
            canvas.height = Math.round(canvas.clientHeight * ratio);
            context.setTransform(ratio, 0, 0, ratio, 0, 0);
            dirty = true;
          }
          window.addEventListener("resize", resize);

          function draw() {
            const w = canvas.clientWidth, h = canvas.clientHeight;
            context.clearRect(0, 0, w, h);
            if (state.area) {
              const [x0, y0] = project(state.area.north, state.area.west), [x1, y1] = project(state.area.south, state.area.east);
              context.strokeStyle = COLORS.muted; context.lineWidth = 1; context.setLineDash([6, 4]);
              context.strokeRect(x0, y0, x1 - x0, y1 - y0); context.setLineDash([]);
            }
            // Lines: en-route drivers to their pickups, trips to their drop-offs.
            context.lineWidth = 1;
            const toPickup = new Path2D(), toDropoff = new Path2D();
            let ridesDrawn = 0;
            for (const [id, ride] of rides) {
              const driver = ride.driver && drivers.get(ride.driver);
              if (!driver) continue;
              const [dx, dy] = project(driver.lat, driver.lon);
              if (ride.status === "accepted" || ride.status === "arrived") {
                const [px, py] = project(ride.plat, ride.plon); toPickup.moveTo(dx, dy); toPickup.lineTo(px, py);
              } else if (ride.status === "in_progress") {
                const [px, py] = project(ride.dlat, ride.dlon); toDropoff.moveTo(dx, dy); toDropoff.lineTo(px, py);
              }
            }
            context.strokeStyle = COLORS.pickup; context.globalAlpha = 0.7; context.stroke(toPickup);
            context.setLineDash([4, 3]); context.strokeStyle = COLORS.dropoff; context.stroke(toDropoff); context.setLineDash([]);
            context.globalAlpha = 1;
            // Searching riders: a marker at the pickup, and a ring as wide as the search radius.
            context.strokeStyle = COLORS.ring; context.fillStyle = COLORS.ring;
            for (const [id, ride] of rides) {
              ridesDrawn += 1;
              if (ride.status !== "requested" && ride.status !== "offered") continue;
              const [x, y] = project(ride.plat, ride.plon);
              if (x < -500 || y < -500 || x > w + 500 || y > h + 500) continue;
              context.beginPath(); context.arc(x, y, Math.max(3, ride.radius / view.metersPerPixel), 0, 2 * Math.PI);
              context.globalAlpha = 0.35; context.stroke(); context.globalAlpha = 1;
              context.fillRect(x - 3, y - 3, 6, 6);
            }
            // Drivers, one path per state.
            const size = view.metersPerPixel > 40 ? 2 : 3;
            const byState = {};
            for (const name of STATES) byState[name] = 0;
            const paths = {};
            for (const name of STATES) paths[name] = new Path2D();
            for (const driver of drivers.values()) {
              byState[driver.state] = (byState[driver.state] || 0) + 1;
              const [x, y] = project(driver.lat, driver.lon);
              if (x < -4 || y < -4 || x > w + 4 || y > h + 4) continue;
              paths[driver.state].rect(x - size / 2, y - size / 2, size, size);
            }
            for (const name of STATES) {
              if (name === "offline") { context.strokeStyle = COLORS.offline; context.stroke(paths[name]); }
              else { context.fillStyle = COLORS[name]; context.fill(paths[name]); }
            }
            state.driversDrawn = drivers.size; state.ridesDrawn = ridesDrawn; state.byState = byState;
            drawSelection();
            drawScaleBar(w, h);
          }
          function drawSelection() {
            const selected = state.selected;
            if (!selected) return;
            if (selected.kind === "ride") {
              const ride = rides.get(selected.id) || (state.decision && state.decision.ride &&
                { plat: state.decision.ride.pickup.lat, plon: state.decision.ride.pickup.lng });
              const offers = (state.decision && state.decision.offers) || [];
              const last = offers[offers.length - 1];
              if (ride) {
                const [px, py] = project(ride.plat, ride.plon);
                if (last) {
                  for (const candidate of last.candidates) {
                    const [cx, cy] = project(candidate.location.lat, candidate.location.lng);
                    context.strokeStyle = candidate.chosen ? COLORS.focus : COLORS.muted;
                    context.lineWidth = candidate.chosen ? 2.5 : 1;
                    context.beginPath(); context.moveTo(px, py); context.lineTo(cx, cy); context.stroke();
                    context.beginPath(); context.arc(cx, cy, candidate.chosen ? 7 : 5, 0, 2 * Math.PI); context.stroke();
                  }
                }
                context.strokeStyle = COLORS.focus; context.lineWidth = 2;
                context.beginPath(); context.arc(px, py, 9, 0, 2 * Math.PI); context.stroke();
              }
            } else {
              const driver = drivers.get(selected.id);
              if (driver) {
                const [x, y] = project(driver.lat, driver.lon);
                context.strokeStyle = COLORS.focus; context.lineWidth = 2;
                context.beginPath(); context.arc(x, y, 8, 0, 2 * Math.PI); context.stroke();
              }
            }
            context.lineWidth = 1;
          }
          function drawScaleBar(w, h) {
            const target = 120 * view.metersPerPixel;
            const step = Math.pow(10, Math.floor(Math.log10(target)));
            const meters = [1, 2, 5, 10].map((m) => m * step).filter((m) => m <= target).pop() || step;
            const pixels = meters / view.metersPerPixel;
            const x = w - pixels - 16, y = h - 16;
            context.strokeStyle = "#e6edf3"; context.lineWidth = 2;
            context.beginPath(); context.moveTo(x, y - 5); context.lineTo(x, y); context.lineTo(x + pixels, y); context.lineTo(x + pixels, y - 5); context.stroke();
            context.fillStyle = "#e6edf3"; context.font = "12px system-ui, sans-serif"; context.textAlign = "center";
            context.fillText(meters >= 1000 ? (meters / 1000) + " km" : meters + " m", x + pixels / 2, y - 6);
            context.textAlign = "start"; context.lineWidth = 1;
            state.scaleBar = { meters, pixels };
          }
          function frame() {
            requestAnimationFrame(frame);
            if (dirty) { dirty = false; draw(); }
          }

        """#
}
