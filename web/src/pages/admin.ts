// The admin page: invite people by mail, find accounts and change their role, see and
// end their sign-ins and tokens, name coordinators of initiatives and communities, and
// read the reports people sent about what they saw. Admins only; the API checks it too.

import { ApiError, type NodeRecord, type Page, del, get, loadSession, patch, post, put } from "../api";
import { type Child, failure, h, notice, replace, section } from "../dom";
import { busy, formField, formMessage, plainReason, showErrors } from "../forms";
import { kindLabel, nodeLink } from "../kinds";
import type { Params } from "../main";

interface AdminAccount {
  id: string;
  email: string;
  name: string;
  role: "member" | "editor" | "admin";
  person_id: string | null;
  created_at: number;
}

interface KeyItem {
  id: string;
  kind: string;
  label: string | null;
  created_at: number;
  expires_at: number | null;
}

interface Report {
  id: string;
  reporter: { id: string; name: string } | null;
  node: { id: string; name: string; kind: string };
  reason: string;
  created_at: number;
  resolved_at: number | null;
}

const ROLES: [string, string][] = [
  ["member", "Member"],
  ["editor", "Editor (writes content)"],
  ["admin", "Admin (everything)"],
];

function day(seconds: number): string {
  return new Date(seconds * 1000).toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric" });
}

function roleSelect(name: string, value = "member"): HTMLSelectElement {
  const select = h("select", { name }, ROLES.map(([role, label]) => h("option", { value: role }, label)));
  select.value = value;
  return select;
}

export async function render(main: HTMLElement, _params: Params, _url: URL): Promise<void> {
  main.append(h("h1", null, "Admin"));
  const account = await loadSession();
  if (!account) {
    main.append(notice("info", h("a", { href: "/signin?next=/admin" }, "Sign in"), " as an admin to use this page."));
    return;
  }
  if (account.role !== "admin") {
    main.append(notice("info", "This page is for admins. Ask an admin if you need something changed."));
    return;
  }
  main.append(inviteForm());
  await Promise.all([
    section(main, "Accounts", async () => accounts()),
    section(main, "Coordinators", async () => coordinators(), { intro: h("p", null, "A coordinator looks after an initiative or a community. Find the person and the place, then name or remove them.") }),
    section(main, "Reports", async () => reports()),
  ]);
}

function inviteForm(): HTMLElement {
  const email = h("input", { name: "email", type: "email", autocomplete: "off", maxlength: 320, required: true });
  const name = h("input", { name: "name", type: "text", autocomplete: "off", maxlength: 200 });
  const role = roleSelect("role");
  const done = h("p", { role: "status" });
  const form = h(
    "form",
    { class: "card account-form", "aria-labelledby": "invite-h", novalidate: true },
    h("h2", { id: "invite-h" }, "Invite someone"),
    formField("Their email address", email, "they get a link to join, which works for two weeks"),
    formField("Their name (optional)", name, "they can change it when they join"),
    formField("Role", role),
    formMessage(),
    h("button", { type: "submit" }, "Send the invitation"),
    done,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    done.textContent = "";
    void busy(form, async () => {
      try {
        await post("/v1/admin/invitations", { email: email.value.trim(), role: role.value, name: name.value.trim() || undefined });
        done.textContent = `The invitation to ${email.value.trim()} is on its way.`;
        email.value = "";
        name.value = "";
      } catch (error) {
        showErrors(form, error, "Inviting did not work");
      }
    });
  });
  return form;
}

function accounts(): HTMLElement {
  const q = h("input", { name: "q", type: "search", autocomplete: "off", maxlength: 100 });
  const list = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "search-row", "aria-label": "Find accounts" }, formField("Email starts with, or name contains", q), h("button", { type: "submit", class: "secondary" }, "Find"));
  const load = async (): Promise<void> => {
    replace(list, h("p", { class: "loading" }, "Loading…"));
    try {
      const page = await get<Page<AdminAccount>>("/v1/admin/accounts", { q: q.value.trim() || undefined, limit: 50 });
      replace(list, page.items.length ? accountTable(page.items) : notice("info", "No account matches."), (page.total ?? 0) > page.items.length ? h("p", { class: "muted" }, `Showing ${page.items.length} of ${page.total}: narrow the search to see others.`) : null);
    } catch (error) {
      replace(list, failure(error, "Accounts"));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void load();
  });
  void load();
  return h("div", null, form, list);
}

function accountTable(items: AdminAccount[]): HTMLElement {
  const rows = items.flatMap((account) => {
    const role = roleSelect(`role-${account.id}`, account.role);
    role.setAttribute("aria-label", `Role of ${account.name}`);
    const state = h("span", { role: "status" });
    let saved = account.role;
    role.addEventListener("change", () => {
      role.disabled = true;
      state.textContent = "Saving…";
      patch<AdminAccount>(`/v1/admin/accounts/${account.id}`, { role: role.value }).then(
        (changed) => {
          saved = changed.role;
          state.textContent = "Saved: it applies at once.";
        },
        (error: unknown) => {
          role.value = saved;
          state.textContent = error instanceof ApiError && error.errors.length ? plainReason(error.errors[0].reason) : "That did not work; try again.";
        },
      ).finally(() => {
        role.disabled = false;
      });
    });
    const keysRow = h("tr", { hidden: true }, h("td", { colspan: 4 }));
    const show = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, "Sign-ins and tokens");
    show.addEventListener("click", () => {
      const open = keysRow.hidden;
      keysRow.hidden = !open;
      show.setAttribute("aria-expanded", String(open));
      if (open) void keyList(account, keysRow.firstElementChild as HTMLElement);
    });
    return [
      h(
        "tr",
        null,
        h("td", null, account.person_id ? nodeLink({ id: account.person_id, name: account.name, kind: "person" }) : account.name),
        h("td", null, account.email, h("span", { class: "hint" }, `joined ${day(account.created_at)}`)),
        h("td", null, role, " ", state),
        h("td", null, show),
      ),
      keysRow,
    ];
  });
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "data-table" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Email"), h("th", { scope: "col" }, "Role"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Sign-ins")))),
      h("tbody", null, rows),
    ),
  );
}

async function keyList(account: AdminAccount, cell: HTMLElement): Promise<void> {
  replace(cell, h("p", { class: "loading" }, "Loading…"));
  try {
    const { items } = await get<{ items: KeyItem[] }>(`/v1/admin/accounts/${account.id}/tokens`);
    if (!items.length) {
      replace(cell, notice("info", `${account.name} is signed in nowhere and has no tokens.`));
      return;
    }
    replace(
      cell,
      h(
        "ul",
        { class: "plain-list" },
        items.map((item) => {
          const state = h("span", { role: "status" });
          const end = h("button", { type: "button", class: "secondary" }, item.kind === "session" ? "Sign them out there" : "Revoke");
          end.addEventListener("click", () => {
            end.disabled = true;
            del(`/v1/admin/tokens/${item.id}`).then(
              () => {
                state.textContent = "Done: it no longer works.";
              },
              (error: unknown) => {
                end.disabled = false;
                state.textContent = error instanceof ApiError && error.status === 404 ? "Already gone." : "That did not work; try again.";
              },
            );
          });
          const what = item.kind === "session" ? "Signed in on the web" : "Token for a script";
          return h("li", null, `${what}${item.label ? ` (${item.label})` : ""}, since ${day(item.created_at)} `, end, " ", state);
        }),
      ),
    );
  } catch (error) {
    replace(cell, failure(error, "Sign-ins and tokens"));
  }
}

/** A name field that finds nodes of some kinds and lets the admin pick one. */
function picker(label: string, name: string, kinds: string[]): { element: HTMLElement; chosen: () => NodeRecord | null } {
  const input = h("input", { name: `${name}-search`, type: "search", autocomplete: "off", maxlength: 100 });
  const select = h("select", { name, "aria-label": `${label}: choose one` }, h("option", { value: "" }, "Type a name and press Find"));
  let found: NodeRecord[] = [];
  const find = h("button", { type: "button", class: "secondary" }, "Find");
  find.addEventListener("click", () => {
    get<Page<NodeRecord>>("/v1/nodes", { kind: kinds, q: input.value.trim() || undefined, limit: 20 }).then(
      (page) => {
        found = page.items;
        replace(select, found.length ? found.map((n) => h("option", { value: n.id }, kinds.length > 1 ? `${n.name} (${kindLabel(n.kind)})` : n.name)) : h("option", { value: "" }, "Nobody with a name like that"));
      },
      () => replace(select, h("option", { value: "" }, "Finding did not work; try again")),
    );
  });
  const field = formField(label, input, "the start of the name");
  field.setAttribute("data-field", name);
  field.append(h("p", null, find, " ", select));
  return { element: field, chosen: () => found.find((n) => n.id === select.value) ?? null };
}

function coordinators(): HTMLElement {
  const person = picker("Person", "person", ["person"]);
  const place = picker("Initiative or community", "node", ["initiative", "community"]);
  const done = h("p", { role: "status" });
  const form = h("form", { class: "account-form", "aria-label": "Coordinators", novalidate: true }, person.element, place.element, formMessage());
  const act = (appoint: boolean): void => {
    const who = person.chosen();
    const where = place.chosen();
    done.textContent = "";
    if (!who || !where) {
      replace(form.querySelector(".form-message") as HTMLElement, notice("error", "Find and choose both the person and the initiative or community first."));
      return;
    }
    void busy(form, async () => {
      try {
        const body = { person: who.id, node: where.id };
        if (appoint) await put("/v1/admin/coordinators", body);
        else await del("/v1/admin/coordinators", body);
        replace(done, appoint ? [who.name, " now coordinates ", nodeLink(where), "."] : [who.name, " no longer coordinates ", nodeLink(where), "."]);
      } catch (error) {
        showErrors(form, error, appoint ? "Naming the coordinator did not work" : "Removing the coordinator did not work");
      }
    });
  };
  const appoint = h("button", { type: "submit" }, "Make them coordinator");
  const dismiss = h("button", { type: "button", class: "secondary" }, "Remove them as coordinator");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(true);
  });
  dismiss.addEventListener("click", () => act(false));
  form.append(h("p", null, appoint, " ", dismiss), done);
  return form;
}

async function reports(): Promise<Child> {
  const { items } = await get<{ items: Report[] }>("/v1/admin/reports");
  if (!items.length) return notice("info", "No reports. Nobody has flagged anything.");
  return h(
    "ul",
    { class: "plain-list reports" },
    items.map((report) => {
      const state = h("span", { role: "status" }, report.resolved_at ? `Resolved on ${day(report.resolved_at)}.` : "");
      const resolve = h("button", { type: "button", class: "secondary", hidden: Boolean(report.resolved_at) }, "Resolve");
      resolve.addEventListener("click", () => {
        resolve.disabled = true;
        post(`/v1/admin/reports/${encodeURIComponent(report.id)}/resolve`).then(
          () => {
            resolve.hidden = true;
            state.textContent = "Resolved.";
          },
          (error: unknown) => {
            resolve.disabled = false;
            replace(state, failure(error, "Resolving"));
          },
        );
      });
      return h(
        "li",
        { class: "card" },
        h("p", null, h("strong", null, nodeLink(report.node)), ` · reported on ${day(report.created_at)} by `, report.reporter ? nodeLink({ ...report.reporter, kind: "person" }) : "someone who is not signed in"),
        h("p", null, report.reason),
        h("p", null, resolve, " ", state),
      );
    }),
  );
}
