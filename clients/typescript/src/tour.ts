// The README's "quick tour with curl", step by step, through the typed client.
//
// Each step makes the same calls as the tour and checks what the tour's comments promise. The
// server is given by TENANTRY_URL, TENANTRY_ADMIN_TOKEN and TENANTRY_SERVICE_TOKEN (run.sh starts
// one on a fresh database). Prints `tour: N passed, 0 failed`, or the failing step and exits 1.
import { createTenantry, noContent, ok, unwrap, type TenantryClient } from "./client.js";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

/** A check that did not hold: names what was expected, and what came instead. */
function check(condition: boolean, what: string, got?: unknown): asserts condition {
  if (!condition) throw new Error(got === undefined ? what : `${what} (got ${JSON.stringify(got)})`);
}

function equal<T>(actual: T, expected: T, what: string): void {
  check(actual === expected, `${what} should be ${JSON.stringify(expected)}`, actual);
}

class StepFailed extends Error {
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

let passed = 0;

/** Runs one step of the tour; a throw inside names the step it came from. */
async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    const value = await run();
    passed += 1;
    return value;
  } catch (error) {
    throw new StepFailed(name, error);
  }
}

/**
 * The token from the newest email to `to`, taken from its link `…{link}{token}`: the tour's
 * `emailed` function, reading the outbox with the instance admin token.
 */
async function emailed(admin: TenantryClient, to: string, link: string): Promise<string> {
  const messages = await unwrap(admin.GET("/v1/admin/outbox", { params: { query: { limit: 100 } } }));
  // The newest by creation time; on a tie the earlier in the list, which is newest first.
  const newest = messages
    .filter((message) => message.to === to)
    .reduce<(typeof messages)[number] | undefined>(
      (best, message) => (best === undefined || message.created_at > best.created_at ? message : best),
      undefined,
    );
  check(newest !== undefined, `an email to ${to} in the outbox`);
  const escaped = link.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const token = new RegExp(`${escaped}([A-Za-z0-9_-]+)`).exec(newest.text)?.[1];
  check(token !== undefined, `a ${link} link in the newest email to ${to} ("${newest.subject}")`);
  return token;
}

async function tour(): Promise<void> {
  const baseUrl = env("TENANTRY_URL");
  const anonymous = createTenantry(baseUrl);
  const admin = createTenantry(baseUrl, env("TENANTRY_ADMIN_TOKEN"));
  const service = createTenantry(baseUrl, env("TENANTRY_SERVICE_TOKEN"));

  // Sign up: creates the user and their personal organization, and returns tokens.
  const adaSession = await step("sign up Ada", async () => {
    const session = await unwrap(
      anonymous.POST("/v1/auth/signup", {
        body: { email: "ada@example.com", password: "correct horse battery", display_name: "Ada" },
      }),
      201,
    );
    equal(session.user.email, "ada@example.com", "the new user's email");
    equal(session.user.email_verified, false, "email_verified before the link is followed");
    check(session.access_token !== "" && session.refresh_token !== "", "an access and a refresh token");
    return session;
  });
  const ada = createTenantry(baseUrl, adaSession.access_token);

  await step("who am I (/v1/me)", async () => {
    const me = await unwrap(ada.GET("/v1/me"));
    equal(me.user.id, adaSession.user.id, "/v1/me's user");
    equal(me.orgs.length, 1, "orgs after signup");
    equal(me.orgs[0]?.is_personal, true, "the one org is the personal one");
    equal(me.orgs[0]?.role, "owner", "Ada's role in her personal org");
  });

  // Create a team organization (you become its owner) and list its members.
  const acme = await step("create org Acme, Inc.", async () => {
    const org = await unwrap(ada.POST("/v1/orgs", { body: { name: "Acme, Inc." } }), 201);
    equal(org.slug, "acme-inc", "the derived slug");
    equal(org.role, "owner", "the creator's role");
    equal(org.is_personal, false, "is_personal");
    return org;
  });

  await step("list acme-inc's members", async () => {
    const members = await unwrap(
      ada.GET("/v1/orgs/{org}/members", { params: { path: { org: "acme-inc" } } }),
    );
    equal(members.length, 1, "members of a new org");
    equal(members[0]?.user_id, adaSession.user.id, "the only member");
    equal(members[0]?.role, "owner", "her role");
  });

  // Rename it (needs org.manage); slugs never change.
  await step("rename to Acme Corp with metadata", async () => {
    const org = await unwrap(
      ada.PATCH("/v1/orgs/{org}", {
        params: { path: { org: "acme-inc" } },
        body: { name: "Acme Corp", metadata: { region: "eu" } },
      }),
    );
    equal(org.name, "Acme Corp", "the new name");
    equal(org.slug, "acme-inc", "the slug after a rename");
    equal(org.metadata["region"], "eu", "metadata.region");
  });

  // Make it the active org of the session: the new access token carries its org.
  await step("switch the session to acme-inc", async () => {
    const switched = await unwrap(ada.POST("/v1/auth/switch-org", { body: { org_id: "acme-inc" } }));
    equal(switched.org.id, acme.id, "the switched-to org");
    const me = await unwrap(createTenantry(baseUrl, switched.access_token).GET("/v1/me"));
    equal(me.active_org_id, acme.id, "the new token's active org");
  });

  // Confirm the address with the token from the verification email (204, no body).
  const adaLink = await step("read Ada's verification email", () =>
    emailed(admin, "ada@example.com", "/verify-email/"),
  );
  await step("verify Ada's email", () =>
    noContent(anonymous.POST("/v1/auth/verify-email", { body: { token: adaLink } })),
  );

  // A free org has one seat: the instance admin moves it to the team plan.
  await step("set plan team (admin token)", async () => {
    const org = await unwrap(
      admin.PUT("/v1/orgs/{org}/plan", { params: { path: { org: "acme-inc" } }, body: { plan: "team" } }),
    );
    equal(org.plan, "team", "the plan");
  });

  // Invite Grace as a developer; the token and accept_url appear in this answer only.
  const invitation = await step("invite Grace as developer", async () => {
    const issued = await unwrap(
      ada.POST("/v1/orgs/{org}/invitations", {
        params: { path: { org: "acme-inc" } },
        body: { email: "grace@example.com", role: "developer" },
      }),
      201,
    );
    equal(issued.role, "developer", "the invited role");
    equal(issued.state, "pending", "the invitation's state");
    check(issued.token !== "", "an invitation token");
    check(
      issued.accept_url.endsWith(`/accept-invite/${issued.token}`),
      "accept_url ends in /accept-invite/{token}",
      issued.accept_url,
    );
    return issued;
  });

  // Over the API Grace signs up, confirms her address, and accepts with her own token.
  const graceSession = await step("sign up Grace", () =>
    unwrap(
      anonymous.POST("/v1/auth/signup", {
        body: { email: "grace@example.com", password: "amazing grace 1906", display_name: "Grace" },
      }),
      201,
    ),
  );
  const grace = createTenantry(baseUrl, graceSession.access_token);
  const graceLink = await step("read Grace's verification email", () =>
    emailed(admin, "grace@example.com", "/verify-email/"),
  );
  await step("verify Grace's email", () =>
    noContent(anonymous.POST("/v1/auth/verify-email", { body: { token: graceLink } })),
  );
  const graceId = await step("Grace accepts the invitation", async () => {
    const accepted = await unwrap(
      grace.POST("/v1/invitations/{token}/accept", { params: { path: { token: invitation.token } } }),
    );
    equal(accepted.org.id, acme.id, "the joined org");
    equal(accepted.member.user_id, graceSession.user.id, "the new member");
    equal(accepted.member.role, "developer", "her role");
    return accepted.member.user_id;
  });

  // Make her an admin (needs members.change_role).
  await step("make Grace an admin", async () => {
    const member = await unwrap(
      ada.PATCH("/v1/orgs/{org}/members/{user}", {
        params: { path: { org: "acme-inc", user: graceId } },
        body: { role: "admin" },
      }),
    );
    equal(member.role, "admin", "her new role");
  });

  // A team with Grace as its lead: her team role counts in checks that name the team.
  await step("create team Platform", async () => {
    const team = await unwrap(
      ada.POST("/v1/orgs/{org}/teams", { params: { path: { org: "acme-inc" } }, body: { name: "Platform" } }),
      201,
    );
    equal(team.slug, "platform", "the derived team slug");
    equal(team.org_id, acme.id, "the team's org");
  });
  await step("add Grace to Platform as lead", async () => {
    const teamMember = await unwrap(
      ada.POST("/v1/orgs/{org}/teams/{team}/members", {
        params: { path: { org: "acme-inc", team: "platform" } },
        body: { user_id: graceId, role: "lead" },
      }),
      201,
    );
    equal(teamMember.user_id, graceId, "the team member");
    equal(teamMember.role, "lead", "her team role");
  });

  // An API key for CI; its secret is shown in this answer only.
  const key = await step("create API key CI pipeline", async () => {
    const scopes = ["endpoints.*", "requests.replay"];
    const issued = await unwrap(
      ada.POST("/v1/orgs/{org}/api-keys", {
        params: { path: { org: "acme-inc" } },
        body: { name: "CI pipeline", scopes },
      }),
      201,
    );
    check(issued.secret.startsWith(issued.prefix), "the secret starts with the key's prefix", issued.prefix);
    equal(JSON.stringify(issued.scopes), JSON.stringify(scopes), "the key's scopes");
    return issued;
  });

  // The key calls as acme-inc, with X-RateLimit-* headers.
  await step("read usage with the API key", async () => {
    const { data, response } = await ok(createTenantry(baseUrl, key.secret).GET("/v1/usage"));
    equal(response.status, 200, "the status");
    check(data !== undefined, "a usage body");
    equal(data.data.member_count, 2, "members of acme-inc");
    for (const header of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]) {
      const value = response.headers.get(header);
      check(value !== null && /^\d+$/.test(value), `a numeric ${header} header`, value);
    }
  });

  // Host apps call with a service token. A single check answers a single decision.
  const authorize = async (body: { team?: string; permission: string }) => {
    const answer = await unwrap(
      service.POST("/v1/authorize", { body: { subject: { user_id: graceId }, org: "acme-inc", ...body } }),
    );
    check(!Array.isArray(answer), "one decision for one check", answer);
    return answer;
  };
  await step("authorize Grace for endpoints.delete (denied)", async () => {
    const decision = await authorize({ permission: "endpoints.delete" });
    equal(decision.allowed, false, "allowed");
    equal(decision.reason, "role `admin` lacks endpoints.delete", "reason");
  });
  await step("authorize Grace for endpoints.create in Platform (allowed)", async () => {
    const decision = await authorize({ team: "platform", permission: "endpoints.create" });
    equal(decision.allowed, true, "allowed");
    equal(decision.reason, "role `admin` grants endpoints.create", "reason");
  });
  await step("verify the API key (service token)", async () => {
    const verdict = await unwrap(
      service.POST("/v1/keys/verify", { body: { key: key.secret, permission: "endpoints.create" } }),
    );
    equal(verdict.valid, true, "valid");
    equal(verdict.code, "VALID", "code");
    equal(verdict.org_id, acme.id, "the key's org");
    equal(verdict.key_id, key.id, "the key's id");
    check(verdict.rate_limit != null, "a rate_limit window", verdict.rate_limit);
  });

  // The audit log: every member.* event, newest first, then the whole log as CSV.
  await step("list member.* audit events", async () => {
    const events = await unwrap(
      ada.GET("/v1/orgs/{org}/audit-events", {
        params: { path: { org: "acme-inc" }, query: { action: "member." } },
      }),
    );
    check(events.length > 0, "some member.* events");
    const actions = events.map((event) => event.action);
    check(actions.every((action) => action.startsWith("member.")), "only member.* actions", actions);
    equal(events[0]?.action, "member.role_changed", "the newest member event");
    check(
      events.every((event, i) => i === 0 || (events[i - 1]?.occurred_at ?? "") >= event.occurred_at),
      "newest first",
    );
  });
  await step("export the audit log as CSV", async () => {
    const { data: csv } = await ok(
      ada.GET("/v1/orgs/{org}/audit-events/export", {
        params: { path: { org: "acme-inc" }, query: { format: "csv" } },
        parseAs: "text",
      }),
    );
    check(csv !== undefined, "a CSV body");
    check(csv.startsWith("id,occurred_at,"), "the CSV header", csv.slice(0, 40));
    check(csv.includes(",member.role_changed,"), "the role change in the export");
  });
}

try {
  await tour();
  console.log(`tour: ${passed} passed, 0 failed`);
} catch (error) {
  const where = error instanceof StepFailed ? `step ${passed + 1} "${error.step}"` : "setup";
  console.error(`tour: ${where} failed: ${error instanceof Error ? error.message : String(error)}`);
  console.log(`tour: ${passed} passed, 1 failed`);
  process.exitCode = 1;
}
