import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { DEFAULT_PAGE_SIZE, api, send, sendEmpty } from "./client";
import type { components, operations } from "./schema";

/**
 * Webhooks (`/v1/webhooks`): the endpoints events are POSTed to, their secrets, test calls and
 * delivery log (`/v1/webhook-deliveries`).
 */

type Schemas = components["schemas"];

/** An event an endpoint can subscribe to, as the API names them. */
export type WebhookEvent = Schemas["WebhookCreate"]["events"][number];

/** The events an endpoint can subscribe to, in the order the form lists them. */
export const WEBHOOK_EVENTS = [
  "sale.created",
  "ticket.issued",
  "ticket.redeemed.pass",
  "ticket.redeemed.fail",
  "reprint.created",
  "refund.created",
  "shift.closed",
  "shift.count_corrected",
  "device.suspended",
  "alert.raised",
] as const satisfies readonly WebhookEvent[];

export const WEBHOOK_EVENT_LABELS: Record<WebhookEvent, string> = {
  "sale.created": "Sale made",
  "ticket.issued": "Ticket issued",
  "ticket.redeemed.pass": "Entry allowed at a gate",
  "ticket.redeemed.fail": "Entry refused at a gate",
  "reprint.created": "Ticket reprinted",
  "refund.created": "Refund made",
  "shift.closed": "Shift closed",
  "shift.count_corrected": "Shift count corrected",
  "device.suspended": "Device suspended",
  "alert.raised": "Alert raised",
};

/** "Sale made" for "sale.created"; an unknown type is shown as it is. */
export const webhookEventLabel = (type: string) => WEBHOOK_EVENT_LABELS[type as WebhookEvent] ?? type;

/** The events in the order the form lists them (the API sends them sorted by name); unknown ones last. */
export function orderedEvents(events: readonly string[]): string[] {
  const rank = (type: string) => {
    const index = (WEBHOOK_EVENTS as readonly string[]).indexOf(type);
    return index === -1 ? WEBHOOK_EVENTS.length : index;
  };
  return [...events].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** What the API accepts as an endpoint address (http or https, no spaces), and its length limit. */
export const WEBHOOK_URL_PATTERN = /^https?:\/\/[^\s/$.?#][^\s]*$/;
export const WEBHOOK_URL_MAX = 500;
export const WEBHOOK_DESCRIPTION_MAX = 200;

/** How long the previous secret keeps signing after a rotation: 0 to 168 hours, 24 unless told. */
export const GRACE_HOURS_MAX = 168;
export const DEFAULT_GRACE_HOURS = 24;

/** A receiving endpoint. Its signing secret is never part of it (only of the create and rotate answers). */
export type Webhook = Schemas["WebhookRead"];
/** The answer to creating an endpoint or rotating its secret: the only time `secret` is ever sent. */
export type WebhookWithSecret = Schemas["WebhookWithSecret"];
export type WebhookInput = Schemas["WebhookCreate"];
export type WebhookPatch = Schemas["WebhookUpdate"];
/** The answer to a test call: what the receiver said, and how long it took. */
export type WebhookTestResult = Schemas["TestResult"];
export type Delivery = Schemas["DeliveryRead"];
export type DeliveryStatus = Delivery["status"];
export const DELIVERY_STATUSES = ["pending", "delivered", "dead", "cancelled"] as const satisfies readonly DeliveryStatus[];
/** One try at delivering: the receiver's answer (or the error) and when the next try is due. */
export type DeliveryAttempt = Schemas["AttemptRead"];
export type DeliveryDetail = Schemas["DeliveryDetail"];
export type DeliveryFilters = Omit<
  NonNullable<operations["list_deliveries_v1_webhooks__webhook_id__deliveries_get"]["parameters"]["query"]>,
  "limit" | "cursor"
>;

/** Only a dead or still-pending delivery can be sent again. */
export const canRedeliver = (delivery: Pick<Delivery, "status">) =>
  delivery.status === "dead" || delivery.status === "pending";

/** "184 ms" (whole milliseconds). */
export const formatLatency = (ms: number | null | undefined) =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? "—" : `${Math.round(ms)} ms`;

/** The endpoint without the secret, so that the secret never lands in the query cache. */
export function withoutSecret(webhook: WebhookWithSecret): Webhook {
  return {
    webhook_id: webhook.webhook_id,
    url: webhook.url,
    events: webhook.events,
    description: webhook.description,
    active: webhook.active,
    healthy: webhook.healthy,
    paused_reason: webhook.paused_reason,
    created_at: webhook.created_at,
    rotating_until: webhook.rotating_until,
  };
}

export const webhookKeys = {
  all: ["webhooks"] as const,
  list: () => ["webhooks", "list"] as const,
  detail: (webhookId: string) => ["webhooks", "detail", webhookId] as const,
  deliveryLists: (webhookId: string) => ["webhooks", "deliveries", webhookId] as const,
  deliveries: (webhookId: string, filters: DeliveryFilters) => ["webhooks", "deliveries", webhookId, filters] as const,
  delivery: (deliveryId: string) => ["webhooks", "delivery", deliveryId] as const,
};

/** Every endpoint of the tenant (the API answers them in one page). */
export const listWebhooks = async (signal?: AbortSignal) => (await send(api.GET("/v1/webhooks", { signal }))).items;
export const getWebhook = (webhookId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: webhookId } }, signal }));
export const createWebhook = (input: WebhookInput) => send(api.POST("/v1/webhooks", { body: input }));
export const updateWebhook = (webhookId: string, patch: WebhookPatch) =>
  send(api.PATCH("/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: webhookId } }, body: patch }));
export const deleteWebhook = (webhookId: string) =>
  sendEmpty(api.DELETE("/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: webhookId } } }));
export const rotateWebhookSecret = (webhookId: string, graceHours: number) =>
  send(
    api.POST("/v1/webhooks/{webhook_id}/rotate_secret", {
      params: { path: { webhook_id: webhookId } },
      body: { grace_hours: graceHours },
    }),
  );
export const testWebhook = (webhookId: string) =>
  send(api.POST("/v1/webhooks/{webhook_id}/test", { params: { path: { webhook_id: webhookId } } }));
export const listDeliveriesPage = (
  webhookId: string,
  filters: DeliveryFilters,
  cursor: string | null,
  signal?: AbortSignal,
) =>
  send(
    api.GET("/v1/webhooks/{webhook_id}/deliveries", {
      params: { path: { webhook_id: webhookId }, query: { ...filters, cursor, limit: DEFAULT_PAGE_SIZE } },
      signal,
    }),
  );
export const getDelivery = (deliveryId: string, signal?: AbortSignal) =>
  send(api.GET("/v1/webhook-deliveries/{delivery_id}", { params: { path: { delivery_id: deliveryId } }, signal }));
export const redeliver = (deliveryId: string) =>
  send(
    api.POST("/v1/webhook-deliveries/{delivery_id}/redeliver", { params: { path: { delivery_id: deliveryId } } }),
  );

/** Every endpoint of the tenant (a short list: the API answers it in one page). */
export function useWebhooks(enabled = true) {
  return useQuery({ enabled, queryKey: webhookKeys.list(), queryFn: ({ signal }) => listWebhooks(signal) });
}

export function useWebhook(webhookId: string, enabled = true) {
  const queryClient = useQueryClient();
  return useQuery({
    enabled,
    queryKey: webhookKeys.detail(webhookId),
    queryFn: ({ signal }) => getWebhook(webhookId, signal),
    initialData: () =>
      queryClient.getQueryData<Webhook[]>(webhookKeys.list())?.find((w) => w.webhook_id === webhookId),
    initialDataUpdatedAt: () => queryClient.getQueryState(webhookKeys.list())?.dataUpdatedAt,
  });
}

function useStoreWebhook() {
  const queryClient = useQueryClient();
  return (webhook: Webhook) => {
    queryClient.setQueryData(webhookKeys.detail(webhook.webhook_id), webhook);
    void queryClient.invalidateQueries({ queryKey: webhookKeys.list() });
  };
}

/** Resolves to the new endpoint with its secret; only the endpoint itself is cached. */
export function useCreateWebhook() {
  const store = useStoreWebhook();
  return useMutation({
    mutationFn: createWebhook,
    onSuccess: (created) => store(withoutSecret(created)),
    // The answer holds the secret: drop it from the mutation cache as soon as the page lets go.
    gcTime: 0,
  });
}

export function useUpdateWebhook(webhookId: string) {
  const store = useStoreWebhook();
  return useMutation({ mutationFn: (patch: WebhookPatch) => updateWebhook(webhookId, patch), onSuccess: store });
}

export function useDeleteWebhook() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteWebhook,
    onSuccess: (_, webhookId) => {
      queryClient.removeQueries({ queryKey: webhookKeys.detail(webhookId) });
      queryClient.setQueryData<Webhook[]>(webhookKeys.list(), (old) => old?.filter((w) => w.webhook_id !== webhookId));
      void queryClient.invalidateQueries({ queryKey: webhookKeys.list() });
    },
  });
}

/** Resolves to the endpoint with its new secret; only the endpoint itself is cached. */
export function useRotateWebhookSecret(webhookId: string) {
  const store = useStoreWebhook();
  return useMutation({
    mutationFn: (graceHours: number) => rotateWebhookSecret(webhookId, graceHours),
    onSuccess: (rotated) => store(withoutSecret(rotated)),
    gcTime: 0,
  });
}

export function useTestWebhook(webhookId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => testWebhook(webhookId),
    // A test changes nothing stored, but the endpoint's health may have been refreshed meanwhile.
    onSettled: () => void queryClient.invalidateQueries({ queryKey: webhookKeys.detail(webhookId) }),
  });
}

export function useWebhookDeliveries(webhookId: string, filters: DeliveryFilters, enabled = true) {
  return useInfiniteQuery({
    enabled,
    queryKey: webhookKeys.deliveries(webhookId, filters),
    queryFn: ({ pageParam, signal }) => listDeliveriesPage(webhookId, filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

/** One delivery with its attempts; off while `deliveryId` is empty. */
export function useDelivery(deliveryId: string) {
  return useQuery({
    enabled: deliveryId !== "",
    queryKey: webhookKeys.delivery(deliveryId),
    queryFn: ({ signal }) => getDelivery(deliveryId, signal),
  });
}

export function useRedeliver() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: redeliver,
    onSuccess: (detail) => {
      queryClient.setQueryData(webhookKeys.delivery(detail.delivery_id), detail);
      void queryClient.invalidateQueries({ queryKey: webhookKeys.deliveryLists(detail.webhook_id) });
    },
  });
}
