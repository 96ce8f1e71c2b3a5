/* routes.c - the one route table. Every route here must be described in
 * src/api/openapi.json; a unit test fails when one is missing. Reads need
 * viewer, customer work operator, administration admin. */
#include "scrm/api.h"
#include "scrm/http.h"

int http_healthz(const struct req *rq, struct resp *rs);
int http_metrics(const struct req *rq, struct resp *rs);

#define V ROLE_VIEWER
#define O ROLE_OPERATOR
#define A ROLE_ADMIN

const struct route http_routes[] = {
    {"GET", "/healthz", http_healthz, ROLE_NONE, R_PUBLIC, "healthz"},
    {"GET", "/metrics", http_metrics, V, 0, "metrics"},
    {"GET", "/api/v1/openapi.json", api_openapi, ROLE_NONE, R_PUBLIC, "openapi"},

    {"POST", "/api/v1/auth/login", api_auth_login, ROLE_NONE, R_PUBLIC | R_BODY | R_NO_CSRF,
     "auth.login"},
    {"POST", "/api/v1/auth/logout", api_auth_logout, ROLE_NONE, R_PUBLIC | R_OPT_BODY,
     "auth.logout"},
    {"GET", "/api/v1/me", api_me_get, V, 0, "me.get"},
    {"PATCH", "/api/v1/me", api_me_patch, V, R_BODY, "me.update"},

    {"GET", "/api/v1/users", api_users_list, A, 0, "users.list"},
    {"POST", "/api/v1/users", api_users_create, A, R_BODY, "users.create"},
    {"GET", "/api/v1/users/{id}", api_users_get, A, 0, "users.get"},
    {"PATCH", "/api/v1/users/{id}", api_users_patch, A, R_BODY, "users.update"},
    {"DELETE", "/api/v1/users/{id}", api_users_delete, A, 0, "users.delete"},

    {"GET", "/api/v1/tokens", api_tokens_list, A, 0, "tokens.list"},
    {"POST", "/api/v1/tokens", api_tokens_create, A, R_BODY, "tokens.create"},
    {"GET", "/api/v1/tokens/{id}", api_tokens_get, A, 0, "tokens.get"},
    {"DELETE", "/api/v1/tokens/{id}", api_tokens_delete, A, 0, "tokens.delete"},

    {"GET", "/api/v1/customers", api_customers_list, V, 0, "customers.list"},
    {"POST", "/api/v1/customers", api_customers_create, O, R_BODY, "customers.create"},
    {"POST", "/api/v1/customers/merge", api_customers_merge, O, R_BODY, "customers.merge"},
    {"POST", "/api/v1/customers/import", api_customers_import, O, R_STREAM, "customers.import"},
    {"GET", "/api/v1/customers/{id}", api_customers_get, V, 0, "customers.get"},
    {"PATCH", "/api/v1/customers/{id}", api_customers_patch, O, R_BODY, "customers.update"},
    {"DELETE", "/api/v1/customers/{id}", api_customers_delete, O, 0, "customers.delete"},
    {"GET", "/api/v1/customers/{id}/timeline", api_customers_timeline, V, 0, "customers.timeline"},
    {"POST", "/api/v1/customers/{id}/tags", api_customers_tag, O, R_BODY, "customers.tag"},
    {"DELETE", "/api/v1/customers/{id}/tags/{tag_id}", api_customers_untag, O, 0,
     "customers.untag"},

    {"GET", "/api/v1/orders", api_orders_list, V, 0, "orders.list"},
    {"POST", "/api/v1/orders", api_orders_upsert, O, R_BODY, "orders.upsert"},
    {"POST", "/api/v1/orders/bind", api_orders_bind, O, R_BODY, "orders.bind"},
    {"POST", "/api/v1/orders/import", api_orders_import, O, R_STREAM, "orders.import"},
    {"GET", "/api/v1/orders/{id}", api_orders_get, V, 0, "orders.get"},

    {"GET", "/api/v1/tags", api_tags_list, V, 0, "tags.list"},
    {"POST", "/api/v1/tags", api_tags_create, O, R_BODY, "tags.create"},
    {"GET", "/api/v1/tags/{id}", api_tags_get, V, 0, "tags.get"},
    {"PATCH", "/api/v1/tags/{id}", api_tags_patch, O, R_BODY, "tags.update"},
    {"DELETE", "/api/v1/tags/{id}", api_tags_delete, O, 0, "tags.delete"},
    {"POST", "/api/v1/tags/{id}/evaluate", api_tags_evaluate, O, R_OPT_BODY, "tags.evaluate"},

    {"GET", "/api/v1/audiences", api_audiences_list, V, 0, "audiences.list"},
    {"POST", "/api/v1/audiences", api_audiences_create, O, R_BODY, "audiences.create"},
    {"POST", "/api/v1/audiences/preview", api_audiences_preview, V, R_BODY, "audiences.preview"},
    {"GET", "/api/v1/audiences/{id}", api_audiences_get, V, 0, "audiences.get"},
    {"PATCH", "/api/v1/audiences/{id}", api_audiences_patch, O, R_BODY, "audiences.update"},
    {"DELETE", "/api/v1/audiences/{id}", api_audiences_delete, O, 0, "audiences.delete"},
    {"GET", "/api/v1/audiences/{id}/customers", api_audiences_customers, V, R_SLOW,
     "audiences.customers"},
    {"GET", "/api/v1/audiences/{id}/export", api_audiences_export, V, 0, "audiences.export"},
    {"POST", "/api/v1/audiences/{id}/evaluate", api_audiences_evaluate, O, R_OPT_BODY,
     "audiences.evaluate"},
    {"GET", "/api/v1/analytics/funnel", api_analytics_funnel, V, R_SLOW, "analytics.funnel"},

    {"GET", "/api/v1/coupon-templates", api_coupon_templates_list, V, 0, "coupon_templates.list"},
    {"POST", "/api/v1/coupon-templates", api_coupon_templates_create, O, R_BODY,
     "coupon_templates.create"},
    {"GET", "/api/v1/coupon-templates/{id}", api_coupon_templates_get, V, 0,
     "coupon_templates.get"},
    {"PATCH", "/api/v1/coupon-templates/{id}", api_coupon_templates_patch, O, R_BODY,
     "coupon_templates.update"},
    {"DELETE", "/api/v1/coupon-templates/{id}", api_coupon_templates_delete, O, 0,
     "coupon_templates.delete"},
    {"POST", "/api/v1/customers/{id}/coupons", api_customers_coupon_issue, O, R_BODY,
     "customers.coupon_issue"},
    {"GET", "/api/v1/customers/{id}/coupons", api_customers_coupons, V, 0, "customers.coupons"},
    {"GET", "/api/v1/coupons/{code}", api_coupons_get, V, 0, "coupons.get"},
    {"POST", "/api/v1/coupons/{code}/redeem", api_coupons_redeem, O, R_OPT_BODY, "coupons.redeem"},
    {"GET", "/api/v1/settings/coupons", api_settings_coupons_get, V, 0, "settings.coupons_get"},
    {"PUT", "/api/v1/settings/coupons", api_settings_coupons_put, A, R_BODY,
     "settings.coupons_put"},
    {"GET", "/api/v1/rewards", api_rewards_list, V, 0, "rewards.list"},
    {"POST", "/api/v1/rewards", api_rewards_create, O, R_BODY, "rewards.create"},
    {"GET", "/api/v1/rewards/{id}", api_rewards_get, V, 0, "rewards.get"},
    {"PATCH", "/api/v1/rewards/{id}", api_rewards_patch, O, R_BODY, "rewards.update"},
    {"DELETE", "/api/v1/rewards/{id}", api_rewards_delete, O, 0, "rewards.delete"},
    {"POST", "/api/v1/rewards/{id}/redeem", api_rewards_redeem, O, R_BODY, "rewards.redeem"},
    {"GET", "/api/v1/rewards/{id}/redemptions", api_rewards_redemptions, V, 0,
     "rewards.redemptions"},
    {"GET", "/api/v1/customers/{id}/redemptions", api_customers_redemptions, V, 0,
     "customers.redemptions"},

    /* outbound delivery */
    {"GET", "/api/v1/message-channels", api_channels_list, A, 0, "message_channels.list"},
    {"POST", "/api/v1/message-channels", api_channels_create, A, R_BODY, "message_channels.create"},
    {"GET", "/api/v1/message-channels/{id}", api_channels_get, A, 0, "message_channels.get"},
    {"PATCH", "/api/v1/message-channels/{id}", api_channels_patch, A, R_BODY,
     "message_channels.update"},
    {"DELETE", "/api/v1/message-channels/{id}", api_channels_delete, A, 0,
     "message_channels.delete"},
    {"POST", "/api/v1/message-channels/{id}/test", api_channels_test, A, R_BODY,
     "message_channels.test"},
    {"GET", "/api/v1/webhooks", api_webhooks_list, A, 0, "webhooks.list"},
    {"POST", "/api/v1/webhooks", api_webhooks_create, A, R_BODY, "webhooks.create"},
    {"GET", "/api/v1/webhooks/{id}", api_webhooks_get, A, 0, "webhooks.get"},
    {"PATCH", "/api/v1/webhooks/{id}", api_webhooks_patch, A, R_BODY, "webhooks.update"},
    {"DELETE", "/api/v1/webhooks/{id}", api_webhooks_delete, A, 0, "webhooks.delete"},
    {"GET", "/api/v1/webhooks/{id}/deliveries", api_webhooks_deliveries, A, 0,
     "webhooks.deliveries"},
    {"GET", "/api/v1/deliveries", api_deliveries_list, O, 0, "deliveries.list"},
    {"GET", "/api/v1/deliveries/{id}", api_deliveries_get, O, 0, "deliveries.get"},
    {"POST", "/api/v1/deliveries/{id}/retry", api_deliveries_retry, O, R_OPT_BODY,
     "deliveries.retry"},

    {"GET", "/api/v1/audit-log", api_audit_list, A, 0, "audit.list"},
    {"POST", "/api/v1/admin/backup", api_admin_backup, A, R_OPT_BODY | R_SLOW, "admin.backup"},
    {"POST", "/api/v1/admin/jobs/daily", api_jobs_daily, A, R_OPT_BODY, "admin.jobs_daily"},
    {"PUT", "/api/v1/admin/clock", api_clock_put, A, R_BODY, "admin.clock"},

    /* the member club */
    {"GET", "/api/v1/settings/points", api_settings_points_get, V, 0, "settings.points_get"},
    {"PUT", "/api/v1/settings/points", api_settings_points_put, A, R_BODY, "settings.points_put"},
    {"GET", "/api/v1/customers/{id}/points", api_points_get, V, 0, "customers.points"},
    {"POST", "/api/v1/customers/{id}/points", api_points_post, O, R_BODY,
     "customers.points_adjust"},
    {"POST", "/api/v1/customers/{id}/checkin", api_checkin, O, R_OPT_BODY, "customers.checkin"},
    {"GET", "/api/v1/customers/{id}/wallet", api_wallet_get, V, 0, "customers.wallet"},
    {"POST", "/api/v1/customers/{id}/wallet", api_wallet_post, O, R_BODY, "customers.wallet_move"},
    {"POST", "/api/v1/customers/{id}/content", api_content_post, O, R_BODY, "customers.content"},
    {"PUT", "/api/v1/customers/{id}/tier", api_customer_tier_put, O, R_BODY, "customers.tier"},
    {"GET", "/api/v1/tiers", api_tiers_list, V, 0, "tiers.list"},
    {"POST", "/api/v1/tiers", api_tiers_create, A, R_BODY, "tiers.create"},
    {"GET", "/api/v1/tiers/{id}", api_tiers_get, V, 0, "tiers.get"},
    {"PATCH", "/api/v1/tiers/{id}", api_tiers_patch, A, R_BODY, "tiers.update"},
    {"DELETE", "/api/v1/tiers/{id}", api_tiers_delete, A, 0, "tiers.delete"},

    {NULL, NULL, NULL, ROLE_NONE, 0, NULL},
};
