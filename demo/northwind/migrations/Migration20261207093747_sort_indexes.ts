import { Migration } from '@mikro-orm/migrations';

/** The indexes a tenant's customers by name and a customer's latest orders are read by. */
export class Migration20261207093747_sort_indexes extends Migration {
  override name = 'Migration20261207093747_sort_indexes';

  override up(): void | Promise<void> {
    this.addSql(
      `create index "customer_client_id_company_name_index" on "customer" ("client_id", "company_name");`,
    );
    this.addSql(
      `create index "order_customer_id_order_date_index" on "order" ("customer_id", "order_date");`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "customer_client_id_company_name_index";`);
    this.addSql(`drop index "order_customer_id_order_date_index";`);
  }
}
