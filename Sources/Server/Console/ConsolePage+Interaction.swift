extension ConsolePage {
    /// The console script's pan, zoom, hover and click, the details of a selection, and start-up; part
    /// of `script`, in the same scope (it closes the function `scriptState` opens).
    static let scriptInteraction = #"""
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
                  " (" + offer.matching + ", by " + offer.ranking + ", radius " + offer.radiusMeters + " m, rank " + offer.rank + " of " + offer.candidates.length + ")";
                body.appendChild(heading);
                const table = document.createElement("table");
                table.dataset.testid = "candidates";
                const head = table.insertRow(); for (const h of ["#", "driver", "distance", "ETA", "accepts", "score"]) { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); }
                offer.candidates.forEach((candidate, rank) => {
                  const row = table.insertRow(); if (candidate.chosen) row.className = "chosen";
                  cell(row, String(rank + 1), "num"); cell(row, candidate.driverId + (candidate.chosen ? " (chosen)" : ""));
                  cell(row, Math.round(candidate.distanceMeters) + " m", "num");
                  cell(row, Math.round(candidate.etaSeconds) + " s", "num");
                  cell(row, candidate.acceptance === undefined ? "" : Math.round(candidate.acceptance * 100) + " %", "num");
                  cell(row, String(Math.round(candidate.score)), "num");
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
