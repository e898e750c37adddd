/// The console's page, style sheet and script, served by the service itself (`ConsoleController`):
/// nothing is fetched from another host, and the Content-Security-Policy says so to the browser.
///
/// The script is `ConsolePage+Script.swift`; what each colour and number means is docs/CONSOLE.md.
enum ConsolePage {
    /// The paths anyone may load (`PublicPaths`): the page and its assets hold no data.
    static let paths: Set<String> = ["/", "/console", "/console/console.js", "/console/console.css"]

    /// Scripts, styles and connections from this origin only; no frames, no plugins, no inline code.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Dispatch console</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/console/console.css">
        <script src="/console/console.js" defer></script>
        </head>
        <body>
        <header>
          <h1>Dispatch console</h1>
          <span id="region" data-testid="region"></span>
          <span id="connection" class="connection" role="status" aria-live="polite" data-state="idle">not connected</span>
          <button id="fit" type="button" title="Fit the map to the service area">Fit map</button>
          <button id="signout" type="button">Sign out</button>
        </header>
        <main>
          <section id="map-pane" aria-label="City map">
            <canvas id="map" tabindex="0" aria-label="Map of drivers and rides: drag or arrow keys to pan, wheel or + and - to zoom, Enter on a highlighted item for its details"></canvas>
            <div id="tooltip" role="tooltip" hidden></div>
            <div id="legend" aria-label="Legend">
              <span><i class="dot available"></i>available</span>
              <span><i class="dot offered"></i>offered</span>
              <span><i class="dot en_route"></i>en route</span>
              <span><i class="dot on_trip"></i>on trip</span>
              <span><i class="dot stale"></i>stale</span>
              <span><i class="dot offline"></i>offline</span>
              <span><i class="ring"></i>rider searching (ring: search radius)</span>
              <span><i class="line pickup"></i>to pickup</span>
              <span><i class="line dropoff"></i>to drop-off</span>
            </div>
          </section>
          <aside id="panel" aria-label="Region status">
            <section>
              <h2>Drivers</h2>
              <dl class="counts">
                <div><dt><i class="dot available"></i>available</dt><dd data-stat="drivers.available">–</dd></div>
                <div><dt><i class="dot offered"></i>offered</dt><dd data-stat="drivers.offered">–</dd></div>
                <div><dt><i class="dot en_route"></i>en route</dt><dd data-stat="drivers.en_route">–</dd></div>
                <div><dt><i class="dot on_trip"></i>on trip</dt><dd data-stat="drivers.on_trip">–</dd></div>
                <div><dt><i class="dot stale"></i>stale</dt><dd data-stat="drivers.stale">–</dd></div>
                <div><dt><i class="dot offline"></i>offline</dt><dd data-stat="drivers.offline">–</dd></div>
              </dl>
            </section>
            <section>
              <h2>Rides</h2>
              <dl class="metrics">
                <div><dt>requests / min</dt><dd data-stat="perMinute.requested">–</dd><canvas class="spark" data-spark="requests" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>matches / min</dt><dd data-stat="perMinute.accepted">–</dd><canvas class="spark" data-spark="matches" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>match latency p50</dt><dd data-stat="matchLatency.p50">–</dd><canvas class="spark" data-spark="latency50" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>match latency p99</dt><dd data-stat="matchLatency.p99">–</dd><canvas class="spark" data-spark="latency99" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>open rides</dt><dd data-stat="openRides">–</dd><canvas class="spark" data-spark="open" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>searching</dt><dd data-stat="searching">–</dd><canvas class="spark" data-spark="searching" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>unfulfilled / min</dt><dd data-stat="perMinute.unfulfilled">–</dd><canvas class="spark" data-spark="unfulfilled" width="96" height="24" aria-hidden="true"></canvas></div>
              </dl>
              <h3>Offers since start-up</h3>
              <dl class="counts">
                <div><dt>accepted</dt><dd data-stat="totals.accepted">–</dd></div>
                <div><dt>declined</dt><dd data-stat="totals.declined">–</dd></div>
                <div><dt>expired</dt><dd data-stat="totals.expired">–</dd></div>
                <div><dt>withdrawn</dt><dd data-stat="totals.withdrawn">–</dd></div>
                <div><dt>requests</dt><dd data-stat="totals.requested">–</dd></div>
                <div><dt>unfulfilled</dt><dd data-stat="totals.unfulfilled">–</dd></div>
              </dl>
            </section>
            <section>
              <h2>Service</h2>
              <dl class="metrics">
                <div><dt>write queue (events)</dt><dd data-stat="store.queuedEvents">–</dd><canvas class="spark" data-spark="queue" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>commit p50</dt><dd data-stat="store.commit.p50">–</dd><canvas class="spark" data-spark="commit50" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>commit p99</dt><dd data-stat="store.commit.p99">–</dd><canvas class="spark" data-spark="commit99" width="96" height="24" aria-hidden="true"></canvas></div>
                <div><dt>leader</dt><dd data-stat="leadership">–</dd></div>
              </dl>
            </section>
            <section id="selection" aria-live="polite">
              <h2>Selection</h2>
              <p id="selection-empty">Click a driver or a ride on the map.</p>
              <div id="selection-body"></div>
            </section>
          </aside>
        </main>
        <dialog id="signin">
          <form id="signin-form" method="dialog">
            <h2>Operator sign-in</h2>
            <p>Paste an <code>ops</code> token (<code>dispatch-server token --role ops --subject YOU</code>). It is kept in this tab only.</p>
            <label for="token">Token</label>
            <input id="token" name="token" type="password" autocomplete="off" required>
            <p id="signin-error" class="error" role="alert"></p>
            <button type="submit">Sign in</button>
          </form>
        </dialog>
        </body>
        </html>
        """#

    static let css = #"""
        :root { --bg:#0f1419; --panel:#161d24; --fg:#e6edf3; --muted:#9aa7b4; --line:#2b3642;
          --available:#3fb950; --offered:#d29922; --en_route:#58a6ff; --on_trip:#bc8cff; --stale:#8b949e;
          --offline:#484f58; --ring:#f778ba; --pickup:#58a6ff; --dropoff:#bc8cff; --focus:#ffd33d; }
        * { box-sizing: border-box; }
        html, body { margin:0; height:100%; background:var(--bg); color:var(--fg);
          font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        header { display:flex; gap:12px; align-items:center; padding:6px 12px; border-bottom:1px solid var(--line); height:44px; }
        header h1 { font-size:16px; margin:0; }
        #region { color:var(--muted); }
        .connection { margin-left:auto; padding:2px 8px; border-radius:10px; background:var(--line); }
        .connection[data-state="live"] { background:#1f6f3a; }
        .connection[data-state="retrying"], .connection[data-state="signed-out"] { background:#8a2c2c; }
        button { background:var(--line); color:var(--fg); border:1px solid #3d4b59; border-radius:4px; padding:4px 10px; font:inherit; cursor:pointer; }
        button:hover { background:#364554; }
        :focus-visible { outline:3px solid var(--focus); outline-offset:2px; }
        main { display:flex; height:calc(100% - 44px); }
        #map-pane { position:relative; flex:1; min-width:0; }
        #map { width:100%; height:100%; display:block; cursor:grab; touch-action:none; }
        #map:active { cursor:grabbing; }
        #tooltip { position:absolute; pointer-events:none; background:#000c; border:1px solid var(--line); padding:4px 8px; border-radius:4px; white-space:pre; font-size:12px; }
        #legend { position:absolute; left:8px; bottom:8px; display:flex; flex-wrap:wrap; gap:4px 12px; max-width:calc(100% - 16px);
          background:#0f1419d9; border:1px solid var(--line); border-radius:4px; padding:6px 8px; font-size:12px; }
        #panel { width:340px; overflow-y:auto; background:var(--panel); border-left:1px solid var(--line); padding:0 12px 12px; }
        #panel h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--muted); margin:14px 0 6px; }
        #panel h3 { font-size:12px; color:var(--muted); margin:10px 0 4px; font-weight:normal; }
        dl { margin:0; }
        dl.counts { display:grid; grid-template-columns:1fr 1fr; gap:2px 12px; }
        dl div { display:flex; align-items:center; gap:6px; }
        dt { color:var(--muted); flex:1; }
        dd { margin:0; font-variant-numeric:tabular-nums; min-width:56px; text-align:right; }
        .spark { width:96px; height:24px; }
        .dot { display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:4px; vertical-align:middle; }
        .dot.available { background:var(--available); } .dot.offered { background:var(--offered); }
        .dot.en_route { background:var(--en_route); } .dot.on_trip { background:var(--on_trip); }
        .dot.stale { background:var(--stale); } .dot.offline { background:transparent; border:1px solid var(--offline); }
        .ring { display:inline-block; width:11px; height:11px; border:2px solid var(--ring); border-radius:50%; margin-right:4px; vertical-align:middle; }
        .line { display:inline-block; width:16px; height:0; border-top:2px solid; margin-right:4px; vertical-align:middle; }
        .line.pickup { border-color:var(--pickup); } .line.dropoff { border-color:var(--dropoff); border-top-style:dashed; }
        table { border-collapse:collapse; width:100%; font-size:12px; margin-top:4px; }
        th, td { text-align:left; padding:2px 4px; border-bottom:1px solid var(--line); }
        td.num { text-align:right; font-variant-numeric:tabular-nums; }
        tr.chosen td { color:var(--focus); font-weight:600; }
        .error { color:#ff7b72; min-height:1.2em; }
        dialog { background:var(--panel); color:var(--fg); border:1px solid var(--line); border-radius:6px; max-width:420px; }
        dialog::backdrop { background:#000a; }
        input { width:100%; padding:6px; background:var(--bg); color:var(--fg); border:1px solid var(--line); border-radius:4px; font:inherit; }
        @media (max-width: 900px) {
          main { flex-direction:column; }
          #map-pane { flex:none; height:60%; }
          #panel { width:auto; flex:1; border-left:none; border-top:1px solid var(--line); }
        }
        """#
}
