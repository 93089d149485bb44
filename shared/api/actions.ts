/** Live response submission, machine actions (get, list, cancel) and result links (mde-api.md §4.1–4.5). */

import { AmbiguousSubmissionError, MdeApiError } from "../errors.js";
import type { HttpTransport } from "../http/transport.js";
import { registerSasUrl } from "../redact.js";
import { callFields } from "./call.js";
import { collectPages, odataParams } from "./paging.js";
import { ACTION_FIELDS, expectShape, shapeProblem } from "./shape.js";
import type { CallOptions, LiveResponseRequest, MachineAction, ODataQuery } from "./types.js";
import {
  checkActionId,
  checkIndex,
  checkLiveResponseRequest,
  checkMachineId,
  checkQuery,
} from "./validate.js";

export async function runLiveResponse(
  t: HttpTransport,
  machineId: string,
  request: LiveResponseRequest,
  options?: CallOptions,
): Promise<MachineAction> {
  const id = checkMachineId(machineId);
  checkLiveResponseRequest(request);
  // Only the documented, case-sensitive keys go on the wire (§3).
  const body: LiveResponseRequest = {
    Commands: request.Commands.map((c) => ({
      type: c.type,
      params: c.params.map((p) => ({ key: p.key, value: p.value })),
    })),
    Comment: request.Comment,
  };
  // 201 per the current doc, 200 in an older example: both mean accepted (the transport accepts any 2xx).
  const res = await t.send({
    kind: "submit",
    method: "POST",
    path: `/api/machines/${id}/runliveresponse`,
    json: body,
    ...callFields(options),
    submission: { machineId: id, comment: request.Comment },
  });
  // Accepted (2xx) but unreadable: as ambiguous as a lost answer — never a plain failure the caller
  // might answer by submitting again.
  const problem = shapeProblem(res.body, { id: "string" });
  if (problem !== null) {
    throw new AmbiguousSubmissionError(id, request.Comment, {
      cause: new MdeApiError({
        status: res.status,
        code: "UnexpectedResponse",
        message: `the service's answer has an unexpected shape: ${problem}`,
        method: "POST",
        path: `/api/machines/${id}/runliveresponse`,
      }),
    });
  }
  return res.body as MachineAction;
}

export async function getMachineAction(
  t: HttpTransport,
  actionId: string,
  options?: CallOptions,
): Promise<MachineAction> {
  const id = checkActionId(actionId);
  const res = await t.send({
    kind: "poll",
    method: "GET",
    path: `/api/machineactions/${id}`,
    ...callFields(options),
  });
  return expectShape<MachineAction>(res.body, ACTION_FIELDS, {
    method: "GET",
    path: `/api/machineactions/${id}`,
  });
}

export async function listMachineActions(
  t: HttpTransport,
  query?: ODataQuery,
  options?: CallOptions,
): Promise<MachineAction[]> {
  checkQuery(query);
  return collectPages<MachineAction>(
    t,
    "poll",
    "/api/machineactions",
    odataParams(query),
    query?.top,
    options,
  );
}

export async function cancelMachineAction(
  t: HttpTransport,
  actionId: string,
  comment: string,
  options?: CallOptions,
): Promise<MachineAction> {
  const id = checkActionId(actionId);
  const res = await t.send({
    kind: "cancel",
    method: "POST",
    path: `/api/machineactions/${id}/cancel`,
    json: {
      Comment: typeof comment === "string" && comment !== "" ? comment : "Cancelled by mde-live-response",
    },
    ...callFields(options),
  });
  return expectShape<MachineAction>(res.body, ACTION_FIELDS, {
    method: "POST",
    path: `/api/machineactions/${id}/cancel`,
  });
}

export async function getResultDownloadLink(
  t: HttpTransport,
  actionId: string,
  commandIndex: number,
  options?: CallOptions,
): Promise<string> {
  const id = checkActionId(actionId);
  const index = checkIndex(commandIndex);
  const path = `/api/machineactions/${id}/GetLiveResponseResultDownloadLink(index=${index})`;
  const res = await t.send({ kind: "link", method: "GET", path, ...callFields(options) });
  const value = (res.body as { value?: unknown } | undefined)?.value;
  if (typeof value !== "string" || !/^https?:\/\//i.test(value)) {
    throw new MdeApiError({
      status: 200,
      code: "InvalidResponse",
      message: "no download URL in the response",
      method: "GET",
      path,
    });
  }
  // Registered before it is returned, so no later log line can show the signature.
  registerSasUrl(value);
  return value;
}
