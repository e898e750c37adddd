extension ConsolePage {
    /// The console's script: signs in, follows `GET /v1/ops/stream` (a snapshot, then deltas), draws the
    /// map on a canvas and fills the panel. `window.consoleState` exposes what is drawn, for the browser
    /// test (scripts/console-test) and for anyone debugging a console. One script (one scope), kept in
    /// three files by concern: state, sign-in and the stream here; the panel and the map
    /// (`ConsolePage+Drawing.swift`); pointer, keys and details (`ConsolePage+Interaction.swift`).
    static let script = scriptState + scriptDrawing + scriptInteraction

    /// State, sign-in and the stream.
    private static let scriptState = #"""
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

        """#
}
