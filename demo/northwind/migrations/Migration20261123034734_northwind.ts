import { Migration } from '@mikro-orm/migrations';

export class Migration20261123034734_northwind extends Migration {
  override name = 'Migration20261123034734_northwind';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "category" ("id" serial primary key, "category_name" varchar(40) not null, "description" varchar(1000) null, "client_id" int null);`,
    );
    this.addSql(`create index "category_client_id_index" on "category" ("client_id");`);

    this.addSql(
      `create table "customer" ("id" varchar(16) not null, "company_name" varchar(80) not null, "contact_name" varchar(60) null, "contact_title" varchar(60) null, "address" varchar(120) null, "city" varchar(40) null, "region" varchar(40) null, "postal_code" varchar(20) null, "country" varchar(40) null, "phone" varchar(30) null, "balance" double precision null, "credit_limit" double precision null, "client_id" int null, primary key ("id"));`,
    );
    this.addSql(`create index "customer_region_index" on "customer" ("region");`);
    this.addSql(`create index "customer_client_id_index" on "customer" ("client_id");`);

    this.addSql(
      `create table "department" ("id" serial primary key, "department_name" varchar(60) not null, "security_level" int not null default 0, "parent_id" int null);`,
    );
    this.addSql(`create index "department_security_level_index" on "department" ("security_level");`);
    this.addSql(`create index "department_parent_id_index" on "department" ("parent_id");`);

    this.addSql(
      `create table "employee" ("id" serial primary key, "last_name" varchar(40) not null, "first_name" varchar(40) not null, "title" varchar(60) null, "city" varchar(40) null, "region" varchar(40) null, "country" varchar(40) null, "salary" double precision null, "works_for_department_id" int null, "reports_to_id" int null);`,
    );
    this.addSql(`create index "employee_region_index" on "employee" ("region");`);
    this.addSql(
      `create index "employee_works_for_department_id_index" on "employee" ("works_for_department_id");`,
    );
    this.addSql(`create index "employee_reports_to_id_index" on "employee" ("reports_to_id");`);

    this.addSql(
      `create table "shipper" ("id" serial primary key, "company_name" varchar(80) not null, "phone" varchar(30) null);`,
    );

    this.addSql(
      `create table "order" ("id" serial primary key, "order_date" timestamptz null, "shipped_date" timestamptz null, "freight" double precision null, "ship_name" varchar(80) null, "ship_city" varchar(40) null, "ship_region" varchar(40) null, "ship_country" varchar(40) null, "amount_total" double precision null, "customer_id" varchar(16) null, "employee_id" int null, "ship_via_id" int null);`,
    );
    this.addSql(`create index "order_customer_id_index" on "order" ("customer_id");`);
    this.addSql(`create index "order_employee_id_index" on "order" ("employee_id");`);
    this.addSql(`create index "order_ship_via_id_index" on "order" ("ship_via_id");`);

    this.addSql(
      `create table "supplier" ("id" serial primary key, "company_name" varchar(80) not null, "contact_name" varchar(60) null, "city" varchar(40) null, "region" varchar(40) null, "country" varchar(40) null);`,
    );
    this.addSql(`create index "supplier_region_index" on "supplier" ("region");`);

    this.addSql(
      `create table "product" ("id" serial primary key, "product_name" varchar(80) not null, "unit_price" double precision not null, "units_in_stock" int not null default 0, "discontinued" boolean not null default false, "category_id" int null, "supplier_id" int null);`,
    );
    this.addSql(`create index "product_discontinued_index" on "product" ("discontinued");`);
    this.addSql(`create index "product_category_id_index" on "product" ("category_id");`);
    this.addSql(`create index "product_supplier_id_index" on "product" ("supplier_id");`);

    this.addSql(
      `create table "order_detail" ("id" serial primary key, "unit_price" double precision not null, "quantity" int not null, "discount" double precision not null default 0, "amount" double precision null, "order_id" int not null, "product_id" int not null);`,
    );
    this.addSql(`create index "order_detail_order_id_index" on "order_detail" ("order_id");`);
    this.addSql(`create index "order_detail_product_id_index" on "order_detail" ("product_id");`);

    this.addSql(
      `alter table "department" add constraint "department_parent_id_foreign" foreign key ("parent_id") references "department" ("id") on delete restrict;`,
    );

    this.addSql(
      `alter table "employee" add constraint "employee_works_for_department_id_foreign" foreign key ("works_for_department_id") references "department" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "employee" add constraint "employee_reports_to_id_foreign" foreign key ("reports_to_id") references "employee" ("id") on delete restrict;`,
    );

    this.addSql(
      `alter table "order" add constraint "order_customer_id_foreign" foreign key ("customer_id") references "customer" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "order" add constraint "order_employee_id_foreign" foreign key ("employee_id") references "employee" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "order" add constraint "order_ship_via_id_foreign" foreign key ("ship_via_id") references "shipper" ("id") on delete restrict;`,
    );

    this.addSql(
      `alter table "product" add constraint "product_category_id_foreign" foreign key ("category_id") references "category" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "product" add constraint "product_supplier_id_foreign" foreign key ("supplier_id") references "supplier" ("id") on delete restrict;`,
    );

    this.addSql(
      `alter table "order_detail" add constraint "order_detail_order_id_foreign" foreign key ("order_id") references "order" ("id") on delete restrict;`,
    );
    this.addSql(
      `alter table "order_detail" add constraint "order_detail_product_id_foreign" foreign key ("product_id") references "product" ("id") on delete restrict;`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "product" drop constraint "product_category_id_foreign";`);
    this.addSql(`alter table "order" drop constraint "order_customer_id_foreign";`);
    this.addSql(`alter table "department" drop constraint "department_parent_id_foreign";`);
    this.addSql(`alter table "employee" drop constraint "employee_works_for_department_id_foreign";`);
    this.addSql(`alter table "employee" drop constraint "employee_reports_to_id_foreign";`);
    this.addSql(`alter table "order" drop constraint "order_employee_id_foreign";`);
    this.addSql(`alter table "order" drop constraint "order_ship_via_id_foreign";`);
    this.addSql(`alter table "order_detail" drop constraint "order_detail_order_id_foreign";`);
    this.addSql(`alter table "product" drop constraint "product_supplier_id_foreign";`);
    this.addSql(`alter table "order_detail" drop constraint "order_detail_product_id_foreign";`);

    this.addSql(`drop table if exists "category" cascade;`);
    this.addSql(`drop table if exists "customer" cascade;`);
    this.addSql(`drop table if exists "department" cascade;`);
    this.addSql(`drop table if exists "employee" cascade;`);
    this.addSql(`drop table if exists "shipper" cascade;`);
    this.addSql(`drop table if exists "order" cascade;`);
    this.addSql(`drop table if exists "supplier" cascade;`);
    this.addSql(`drop table if exists "product" cascade;`);
    this.addSql(`drop table if exists "order_detail" cascade;`);
  }
}
