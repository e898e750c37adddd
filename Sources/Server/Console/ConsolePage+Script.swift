extension ConsolePage {
    /// The console's script: signs in, follows `GET /v1/ops/stream` (a snapshot, then deltas), draws the
    /// map on a canvas and fills the panel. `window.consoleState` exposes what is drawn, for the browser
    /// test (scripts/console-test) and for anyone debugging a console.
    static let script = #"""
        "use strict";
        (() => {
          const COLORS = {};
          for (const name of ["available", "offered", "en_route", "on_trip", "stale", "offline", "ring", "pickup", "dropoff", "focus", "line", "muted"]) {
            COLORS[name] = getComputedStyle(document.documentElement).getPropertyValue("--" + name).trim();
          }
          const STATES = ["available", "offered", "en_route", "on_trip", "stale", "offline"];
          const drivers = new Map();   // id -> {lat, lon, state, ride}
          const rides = new Map();     // id -> {status, plat, plon, dlat, dlon, radius, driver}
          const history = [];          // stats samples, oldest first
          const state = { connected: false, frames: 0, stats: null, area: null, selected: null, decision: null,
            lastFrameAt: null, errors: [], driversDrawn: 0, ridesDrawn: 0, byState: {} };
          window.consoleState = state;

          state.drivers = drivers;
          state.rides = rides;

          const canvas = document.getElementById("map");
          const context = canvas.getContext("2d");
          const tooltip = document.getElementById("tooltip");
          const connection = document.getElementById("connection");
          const view = { lat: 37.5665, lon: 126.978, metersPerPixel: 20, fitted: false };
          state.view = view;
          // Centres the map on a point at a scale (metres per pixel): for operators' links and the tests.
          state.focus = (lat, lon, metersPerPixel) => {
            view.lat = lat; view.lon = lon; view.metersPerPixel = metersPerPixel || view.metersPerPixel; view.fitted = true; dirty = true;
          };
          let dirty = true;
          let hovered = null;

          // ---- sign-in ----
          const dialog = document.getElementById("signin");
          const tokenKey = "dispatch-ops-token";
          function token() { return sessionStorage.getItem(tokenKey); }
          function askForToken(message) {
            setConnection("signed-out", "signed out");
            document.getElementById("signin-error").textContent = message || "";
            if (!dialog.open) dialog.showModal();
            document.getElementById("token").focus();
          }
          document.getElementById("signin-form").addEventListener("submit", (event) => {
            const value = document.getElementById("token").value.trim();
            if (!value) { event.preventDefault(); return; }
            sessionStorage.setItem(tokenKey, value);
            document.getElementById("token").value = "";
            connect();
          });
          document.getElementById("signout").addEventListener("click", () => {
            sessionStorage.removeItem(tokenKey);
            clearTimeout(retryTimer);
            if (controller) controller.abort();
            forget();
            askForToken("");
          });
          // Nothing seen while signed in stays on the page once signed out.
          function forget() {
            drivers.clear(); rides.clear(); history.length = 0;
            state.stats = null; state.selected = null; state.decision = null; state.frames = 0;
            for (const element of document.querySelectorAll("[data-stat]")) element.textContent = "–";
            for (const spark of document.querySelectorAll("canvas[data-spark]")) spark.getContext("2d").clearRect(0, 0, spark.width, spark.height);
            document.getElementById("region").textContent = "";
            renderSelection(); dirty = true;
          }
          document.getElementById("fit").addEventListener("click", () => { fit(); dirty = true; });

          function setConnection(kind, text) {
            connection.dataset.state = kind;
            connection.textContent = text;
            state.connected = kind === "live";
          }

          // ---- the stream ----
          let controller = null;
          let retryDelay = 1000;
          let retryTimer = null;
          async function connect() {
            clearTimeout(retryTimer);
            if (!token()) { askForToken(""); return; }
            if (controller) controller.abort();
            const mine = new AbortController();
            controller = mine;
            setConnection("connecting", "connecting…");
            try {
              const response = await fetch("/v1/ops/stream", {
                headers: { Authorization: "Bearer " + token(), Accept: "text/event-stream" },
                signal: mine.signal, cache: "no-store" });
              if (response.status === 401 || response.status === 403) {
                sessionStorage.removeItem(tokenKey);
                forget();
                const body = await response.json().catch(() => null);
                askForToken((body && body.error && body.error.message) || "That token is not an operator's.");
                return;
              }
              if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
              retryDelay = 1000;
              const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
              let buffer = "", scanned = 0;
              for (;;) {
                const { value, done } = await reader.read();
                if (done) break;
                buffer += value;
                // Look for the end of an event only in what is new (a snapshot can be megabytes).
                let end;
                while ((end = buffer.indexOf("\n\n", Math.max(0, scanned - 1))) >= 0) {
                  handleBlock(buffer.slice(0, end));
                  buffer = buffer.slice(end + 2);
                  scanned = 0;
                }
                scanned = buffer.length;
              }
              throw new Error("the stream ended");
            } catch (error) {
              // An attempt that was replaced or stopped (sign-out) does not retry.
              if (mine.signal.aborted || controller !== mine) return;
              setConnection("retrying", "disconnected, retrying in " + Math.round(retryDelay / 1000) + " s");
              retryTimer = setTimeout(connect, retryDelay);
              retryDelay = Math.min(retryDelay * 2, 10000);
            }
          }

          function handleBlock(block) {
            let type = "message", data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) type = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (!data) return;
            const frame = JSON.parse(data);
            if (type === "snapshot") applySnapshot(frame);
            else if (type === "delta") applyDelta(frame);
            state.frames += 1;
            state.lastFrameAt = frame.at;
            setConnection("live", "live");
            dirty = true;
          }

          function setDriver(row) {
            drivers.set(row[0], { lat: row[1], lon: row[2], state: row[3], ride: row[4] || null });
          }
          function setRide(row) {
            rides.set(row[0], { status: row[1], plat: row[2], plon: row[3], dlat: row[4], dlon: row[5], radius: row[6], driver: row[7] });
          }
          function applySnapshot(frame) {
            drivers.clear(); rides.clear(); history.length = 0;
            frame.drivers.forEach(setDriver);
            frame.rides.forEach(setRide);
            for (const sample of frame.history || []) history.push(sample);
            state.area = frame.area;
            state.frameMilliseconds = frame.frameMilliseconds;
            if (!view.fitted) fit();
            applyStats(frame.stats);
          }
          function applyDelta(frame) {
            frame.drivers.forEach(setDriver);
            frame.driversGone.forEach((id) => drivers.delete(id));
            frame.rides.forEach(setRide);
            frame.ridesGone.forEach((id) => rides.delete(id));
            applyStats(frame.stats);
          }
          function applyStats(stats) {
            const last = history[history.length - 1];
            if (!last || last.at !== stats.at) history.push(stats);
            while (history.length > 120) history.shift();
            state.stats = stats;
            renderPanel();
          }

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

          // ---- pan, zoom, hover, click ----
          function zoom(factor, x, y) {
            const [lat, lon] = unproject(x, y);
            view.metersPerPixel = Math.min(2000, Math.max(0.5, view.metersPerPixel * factor));
            const [lat2, lon2] = unproject(x, y);
            view.lat += lat - lat2; view.lon += lon - lon2; dirty = true;
          }
          function pan(dx, dy) {
            const k = Math.cos(view.lat * Math.PI / 180);
            view.lat += dy * view.metersPerPixel / METERS_PER_DEGREE;
            view.lon -= dx * view.metersPerPixel / (METERS_PER_DEGREE * k); dirty = true;
          }
          canvas.addEventListener("wheel", (event) => {
            event.preventDefault();
            const box = canvas.getBoundingClientRect();
            zoom(event.deltaY > 0 ? 1.2 : 1 / 1.2, event.clientX - box.left, event.clientY - box.top);
          }, { passive: false });
          const pointers = new Map();
          let pinch = null, moved = false, travelled = 0;
          canvas.addEventListener("pointerdown", (event) => {
            canvas.setPointerCapture(event.pointerId);
            pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
            // A new gesture starts with the first finger; a second one joins it (a pinch is no tap).
            if (pointers.size === 1) { moved = false; travelled = 0; } else moved = true;
            if (pointers.size === 2) {
              const [a, b] = [...pointers.values()];
              pinch = Math.hypot(a.x - b.x, a.y - b.y);
            }
          });
          canvas.addEventListener("pointermove", (event) => {
            const box = canvas.getBoundingClientRect();
            const previous = pointers.get(event.pointerId);
            if (!previous) { hover(event.clientX - box.left, event.clientY - box.top); return; }
            const current = { x: event.clientX, y: event.clientY };
            if (pointers.size === 1) {
              // A tap may wobble a few pixels and still select.
              travelled += Math.abs(current.x - previous.x) + Math.abs(current.y - previous.y);
              if (travelled > 5) moved = true;
              pan(current.x - previous.x, current.y - previous.y);
            } else if (pointers.size === 2 && pinch) {
              pointers.set(event.pointerId, current);
              const [a, b] = [...pointers.values()];
              const distance = Math.hypot(a.x - b.x, a.y - b.y);
              zoom(pinch / distance, (a.x + b.x) / 2 - box.left, (a.y + b.y) / 2 - box.top);
              pinch = distance; moved = true;
            }
            pointers.set(event.pointerId, current);
          });
          function release(event) {
            const box = canvas.getBoundingClientRect();
            const wasClick = pointers.size === 1 && !moved;
            pointers.delete(event.pointerId);
            if (pointers.size < 2) pinch = null;
            if (wasClick && event.type === "pointerup") {
              const hit = hitTest(event.clientX - box.left, event.clientY - box.top);
              if (hit) select(hit);
            }
          }
          canvas.addEventListener("pointerup", release);
          canvas.addEventListener("pointercancel", release);
          canvas.addEventListener("pointerleave", () => { tooltip.hidden = true; });
          canvas.addEventListener("keydown", (event) => {
            const step = 60;
            const keys = { ArrowLeft: () => pan(step, 0), ArrowRight: () => pan(-step, 0), ArrowUp: () => pan(0, step),
              ArrowDown: () => pan(0, -step), "+": () => zoom(1 / 1.25, canvas.clientWidth / 2, canvas.clientHeight / 2),
              "=": () => zoom(1 / 1.25, canvas.clientWidth / 2, canvas.clientHeight / 2),
              "-": () => zoom(1.25, canvas.clientWidth / 2, canvas.clientHeight / 2),
              Enter: () => { const hit = hovered || hitTest(canvas.clientWidth / 2, canvas.clientHeight / 2, 40); if (hit) select(hit); },
              Escape: () => { state.selected = null; state.decision = null; renderSelection(); dirty = true; } };
            if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
          });
          function hitTest(x, y, within = 8) {
            let best = null, bestDistance = within;
            for (const [id, ride] of rides) {
              const [px, py] = project(ride.plat, ride.plon);
              const d = Math.hypot(px - x, py - y);
              if (d < bestDistance) { best = { kind: "ride", id }; bestDistance = d; }
            }
            for (const [id, driver] of drivers) {
              const [px, py] = project(driver.lat, driver.lon);
              const d = Math.hypot(px - x, py - y);
              if (d < bestDistance - 2) { best = { kind: "driver", id }; bestDistance = d; }
            }
            return best;
          }
          function hover(x, y) {
            hovered = hitTest(x, y);
            if (!hovered) { tooltip.hidden = true; return; }
            let text;
            if (hovered.kind === "driver") {
              const d = drivers.get(hovered.id);
              text = "driver " + hovered.id + "\n" + d.state.replace("_", " ") + (d.ride ? "\nride " + d.ride : "");
            } else {
              const r = rides.get(hovered.id);
              text = "ride " + hovered.id + "\n" + r.status.replace("_", " ") + (r.driver ? "\ndriver " + r.driver : "") +
                (r.radius ? "\nsearching " + r.radius + " m" : "");
            }
            tooltip.textContent = text + "\nclick for details";
            tooltip.style.left = (x + 14) + "px"; tooltip.style.top = (y + 14) + "px"; tooltip.hidden = false;
          }

          // ---- details ----
          async function select(hit) {
            state.selected = hit; state.decision = null; dirty = true;
            const path = hit.kind === "ride" ? "/v1/ops/rides/" : "/v1/ops/drivers/";
            try {
              const response = await fetch(path + encodeURIComponent(hit.id), { headers: { Authorization: "Bearer " + token() } });
              const body = await response.json();
              if (state.selected !== hit) return;
              if (!response.ok) { state.decision = { error: body.error ? body.error.message : "HTTP " + response.status }; }
              else state.decision = body;
            } catch (error) {
              if (state.selected !== hit) return;
              state.decision = { error: String(error) };
            }
            renderSelection(); dirty = true;
          }
          function cell(row, text, className) {
            const td = document.createElement("td"); td.textContent = text; if (className) td.className = className; row.appendChild(td);
          }
          function renderSelection() {
            const body = document.getElementById("selection-body");
            body.replaceChildren();
            document.getElementById("selection-empty").hidden = !!state.selected;
            const selected = state.selected, detail = state.decision;
            if (!selected) return;
            const title = document.createElement("h3");
            title.textContent = selected.kind + " " + selected.id;
            body.appendChild(title);
            if (!detail) { body.append("loading…"); return; }
            if (detail.error) { const p = document.createElement("p"); p.className = "error"; p.textContent = detail.error; body.appendChild(p); return; }
            const summary = document.createElement("p");
            if (selected.kind === "ride") {
              summary.textContent = detail.ride ? ("status " + detail.ride.status.replace("_", " ") +
                (detail.ride.driverId ? ", driver " + detail.ride.driverId : "") +
                (detail.ride.status === "requested" || detail.ride.status === "offered" ? ", searching " + detail.ride.searchRadiusMeters + " m" : ""))
                : "finished";
              body.appendChild(summary);
              detail.offers.forEach((offer, index) => {
                const heading = document.createElement("h3");
                heading.textContent = "Offer " + (index + 1) + ": " + offer.driverId + ", " + offer.outcome +
                  " (" + offer.matching + ", radius " + offer.radiusMeters + " m, rank " + offer.rank + " of " + offer.candidates.length + ")";
                body.appendChild(heading);
                const table = document.createElement("table");
                table.dataset.testid = "candidates";
                const head = table.insertRow(); for (const h of ["#", "driver", "distance"]) { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); }
                offer.candidates.forEach((candidate, rank) => {
                  const row = table.insertRow(); if (candidate.chosen) row.className = "chosen";
                  cell(row, String(rank + 1), "num"); cell(row, candidate.driverId + (candidate.chosen ? " (chosen)" : ""));
                  cell(row, Math.round(candidate.distanceMeters) + " m", "num");
                });
                body.appendChild(table);
              });
              if (!detail.offers.length) body.append("No offer made yet.");
            } else {
              summary.textContent = detail.state.replace("_", " ") + (detail.rideId ? ", ride " + detail.rideId : "") + ", last report " + detail.updatedAt;
              body.appendChild(summary);
            }
            const eventsHeading = document.createElement("h3"); eventsHeading.textContent = "Recent events"; body.appendChild(eventsHeading);
            const table = document.createElement("table");
            for (const event of detail.events.slice().reverse()) {
              const row = table.insertRow();
              cell(row, event.at.slice(11, 19)); cell(row, event.type.replace(/_/g, " ")); cell(row, event.driverId || "");
            }
            body.appendChild(table);
          }

          window.addEventListener("error", (event) => state.errors.push(String(event.message)));
          resize();
          requestAnimationFrame(frame);
          connect();
        })();
        """#
}
