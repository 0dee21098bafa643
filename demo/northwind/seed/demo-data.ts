/**
 * The demo data set, written for this project: a made-up trading company with three tenants
 * (clientId 1, 2, 3) and a few rows with no tenant, about the size of the classic Northwind sample at
 * scale 1. It is deterministic (a seeded PRNG), so tests can rely on it, and it is shaped for the demo
 * users of SPEC §5: every user should see a different slice once row security is on. The rows that
 * make those slices differ are written out by hand below (`FIXED_CUSTOMERS`); the rest is generated.
 */

export const REGIONS = [
  'British Isles',
  'North America',
  'Central America',
  'South America',
  'Western Europe',
  'Scandinavia',
  'Southern Europe',
  'Eastern Asia',
] as const;

const COUNTRY_BY_REGION: Record<(typeof REGIONS)[number], [country: string, city: string][]> = {
  'British Isles': [
    ['UK', 'London'],
    ['UK', 'Manchester'],
    ['Ireland', 'Cork'],
  ],
  'North America': [
    ['USA', 'Seattle'],
    ['USA', 'Boston'],
    ['Canada', 'Montreal'],
  ],
  'Central America': [
    ['Mexico', 'Puebla'],
    ['Costa Rica', 'San José'],
  ],
  'South America': [
    ['Brazil', 'Recife'],
    ['Argentina', 'Rosario'],
  ],
  'Western Europe': [
    ['Germany', 'Leipzig'],
    ['France', 'Nantes'],
    ['Belgium', 'Ghent'],
  ],
  Scandinavia: [
    ['Sweden', 'Malmö'],
    ['Norway', 'Bergen'],
  ],
  'Southern Europe': [
    ['Spain', 'Valencia'],
    ['Italy', 'Turin'],
  ],
  'Eastern Asia': [
    ['Japan', 'Sapporo'],
    ['Korea', 'Busan'],
  ],
};

/** A small, fast, seedable PRNG (mulberry32): the same seed always yields the same data. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  money(min: number, max: number): number {
    return Math.round((min + this.next() * (max - min)) * 100) / 100;
  }
}

export interface ShipperRow {
  id: number;
  companyName: string;
  phone: string;
}
export interface SupplierRow {
  id: number;
  companyName: string;
  contactName: string;
  city: string;
  region: string;
  country: string;
}
export interface CategoryRow {
  id: number;
  categoryName: string;
  description: string;
  clientId: number | null;
}
export interface ProductRow {
  id: number;
  productName: string;
  unitPrice: number;
  unitsInStock: number;
  discontinued: boolean;
  category: number;
  supplier: number;
}
export interface DepartmentRow {
  id: number;
  departmentName: string;
  securityLevel: number;
  parent: number | null;
}
export interface EmployeeRow {
  id: number;
  lastName: string;
  firstName: string;
  title: string;
  city: string;
  region: string;
  country: string;
  salary: number;
  worksForDepartment: number;
  reportsTo: number | null;
}
export interface CustomerRow {
  id: string;
  companyName: string;
  contactName: string | null;
  contactTitle: string | null;
  address: string;
  city: string;
  region: string | null;
  postalCode: string;
  country: string;
  phone: string;
  balance: number;
  creditLimit: number | null;
  clientId: number | null;
}
export interface OrderRow {
  id: number;
  orderDate: Date;
  shippedDate: Date | null;
  freight: number;
  shipName: string;
  shipCity: string;
  shipRegion: string | null;
  shipCountry: string;
  amountTotal: number;
  customer: string;
  employee: number;
  shipVia: number;
}
export interface OrderDetailRow {
  id: number;
  unitPrice: number;
  quantity: number;
  discount: number;
  amount: number;
  order: number;
  product: number;
}

export interface ReferenceData {
  shippers: ShipperRow[];
  suppliers: SupplierRow[];
  categories: CategoryRow[];
  products: ProductRow[];
  departments: DepartmentRow[];
  employees: EmployeeRow[];
}

type FixedCustomer = Pick<
  CustomerRow,
  'id' | 'companyName' | 'contactName' | 'region' | 'creditLimit' | 'clientId'
>;

/**
 * Customers placed by hand so that the sample grants of SPEC §5 have something to tell apart:
 * ALFKI and ANATR are also demo users (role `customer`); client 2's British Isles customers cover
 * every combination of "credit limit over 300" and "contact is Mike" that the `sales` grants test.
 */
export const FIXED_CUSTOMERS: FixedCustomer[] = [
  {
    id: 'ALFKI',
    companyName: 'Alpenfeld Kitchens',
    contactName: 'Maria Lenz',
    region: 'Western Europe',
    creditLimit: 1000,
    clientId: 1,
  },
  {
    id: 'ANATR',
    companyName: 'Ana Trujillo Provisions',
    contactName: 'Ana Trujillo',
    region: 'Central America',
    creditLimit: 500,
    clientId: 2,
  },
  {
    id: 'BRIMK',
    companyName: 'Brimley Market',
    contactName: 'Mike',
    region: 'British Isles',
    creditLimit: 250,
    clientId: 2,
  },
  {
    id: 'CRWNF',
    companyName: 'Crown & Fern Grocers',
    contactName: 'Olivia Hart',
    region: 'British Isles',
    creditLimit: 900,
    clientId: 2,
  },
  {
    id: 'THMSD',
    companyName: 'Thames Side Deli',
    contactName: 'Mike',
    region: 'British Isles',
    creditLimit: 1200,
    clientId: 2,
  },
  {
    id: 'KELTS',
    companyName: 'Kelt Street Stores',
    contactName: 'Fiona Byrne',
    region: 'British Isles',
    creditLimit: 150,
    clientId: 2,
  },
  {
    id: 'MOORS',
    companyName: 'Moorside Foods',
    contactName: 'Ian Doyle',
    region: 'British Isles',
    creditLimit: 300,
    clientId: 2,
  },
  {
    id: 'AVONB',
    companyName: 'Avon Bakery',
    contactName: 'Mike',
    region: 'British Isles',
    creditLimit: 2000,
    clientId: 1,
  },
  {
    id: 'LOCHF',
    companyName: 'Loch Fyne Fishmongers',
    contactName: 'Ewan Ross',
    region: 'British Isles',
    creditLimit: 800,
    clientId: 1,
  },
  {
    id: 'DUBLN',
    companyName: 'Dublin Larder',
    contactName: 'Mike',
    region: 'British Isles',
    creditLimit: 100,
    clientId: 3,
  },
  {
    id: 'GRTLK',
    companyName: 'Great Lakes Pantry',
    contactName: 'Jordan Price',
    region: 'North America',
    creditLimit: 700,
    clientId: 1,
  },
  {
    id: 'PACNW',
    companyName: 'Pacific Northwest Co-op',
    contactName: 'Mike',
    region: 'North America',
    creditLimit: 350,
    clientId: 2,
  },
  {
    id: 'COSTA',
    companyName: 'Costa Verde Imports',
    contactName: 'Lucia Mora',
    region: 'Central America',
    creditLimit: 450,
    clientId: 1,
  },
  {
    id: 'NOTEN',
    companyName: 'No Tenant Trading',
    contactName: 'Sam Quill',
    region: 'British Isles',
    creditLimit: 999,
    clientId: null,
  },
  {
    id: 'NOREG',
    companyName: 'Nowhere Wholesale',
    contactName: null,
    region: null,
    creditLimit: null,
    clientId: 2,
  },
];

const COMPANY_WORDS = [
  [
    'Amber',
    'Birch',
    'Cobalt',
    'Delta',
    'Ember',
    'Falcon',
    'Granite',
    'Hazel',
    'Indigo',
    'Juniper',
    'Kestrel',
    'Linden',
    'Maple',
    'Nimbus',
    'Onyx',
    'Pine',
    'Quarry',
    'Raven',
    'Saffron',
    'Tidal',
    'Umber',
    'Vale',
    'Willow',
    'Yarrow',
    'Zephyr',
  ],
  ['Traders', 'Foods', 'Market', 'Provisions', 'Grocers', 'Imports', 'Pantry', 'Supply', 'Larder', 'Stores'],
];
const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloe',
  'Dev',
  'Elena',
  'Farid',
  'Grace',
  'Hugo',
  'Iris',
  'Jonas',
  'Kira',
  'Leo',
  'Mina',
  'Noor',
  'Omar',
  'Pia',
  'Rosa',
  'Tomas',
  'Uma',
  'Viktor',
];
const LAST_NAMES = [
  'Abbott',
  'Berg',
  'Costa',
  'Dunn',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Holm',
  'Ito',
  'Jansen',
  'Keller',
  'Lund',
  'Moreau',
  'Novak',
  'Okafor',
  'Park',
  'Quinn',
  'Rossi',
  'Silva',
  'Tanaka',
];
const CONTACT_TITLES = [
  'Owner',
  'Sales Manager',
  'Purchasing Agent',
  'Accounting Manager',
  'Marketing Assistant',
];
const PRODUCT_WORDS = [
  [
    'Smoked',
    'Golden',
    'Wild',
    'Spiced',
    'Aged',
    'Fresh',
    'Roasted',
    'Sweet',
    'Salted',
    'Dried',
    'Mountain',
    'Coastal',
  ],
  [
    'Salmon',
    'Honey',
    'Cheddar',
    'Coffee',
    'Tea',
    'Olives',
    'Rice',
    'Chutney',
    'Biscuits',
    'Mustard',
    'Cider',
    'Pasta',
    'Figs',
    'Lentils',
  ],
];
const CATEGORY_NAMES = [
  'Beverages',
  'Condiments',
  'Confections',
  'Dairy',
  'Grains',
  'Meat',
  'Produce',
  'Seafood',
];

const BASE_CUSTOMERS = 91;
const BASE_ORDERS = 830;
const TENANT_WEIGHTS: (number | null)[] = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, null];
const DAY = 86_400_000;
const FIRST_ORDER_DATE = Date.UTC(2024, 0, 1);

export function buildReferenceData(random: Random): ReferenceData {
  const shippers: ShipperRow[] = ['Swift Parcel', 'Blue Harbour Freight', 'Northwind Couriers'].map(
    (companyName, index) => ({ id: index + 1, companyName, phone: `(555) 010-${1000 + index}` }),
  );

  const suppliers: SupplierRow[] = Array.from({ length: 29 }, (_, index) => {
    const region = REGIONS[index % REGIONS.length]!;
    const [country, city] = random.pick(COUNTRY_BY_REGION[region]);
    return {
      id: index + 1,
      companyName: `${COMPANY_WORDS[0]![index % 25]} ${['Farms', 'Mills', 'Works', 'Growers'][index % 4]}`,
      contactName: `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`,
      city,
      region,
      country,
    };
  });

  // Each tenant keeps its own catalogue; one category belongs to no tenant (visible to nobody but `sa`).
  const categoryOwners: (number | null)[] = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, null];
  const categories: CategoryRow[] = categoryOwners.map((clientId, index) => ({
    id: index + 1,
    categoryName: CATEGORY_NAMES[index % CATEGORY_NAMES.length]!,
    description: `${CATEGORY_NAMES[index % CATEGORY_NAMES.length]} of ${clientId ? `client ${clientId}` : 'no client'}`,
    clientId,
  }));

  const products: ProductRow[] = Array.from({ length: 77 }, (_, index) => ({
    id: index + 1,
    productName: `${PRODUCT_WORDS[0]![index % 12]} ${PRODUCT_WORDS[1]![(index * 5) % 14]}`,
    unitPrice: random.money(2.5, 120),
    unitsInStock: random.int(0, 120),
    // Every eighth product is discontinued, so the `discontinued == false` global filter has work to do.
    discontinued: index % 8 === 7,
    category: (index % categories.length) + 1,
    supplier: (index % suppliers.length) + 1,
  }));

  const departments: DepartmentRow[] = [
    { id: 1, departmentName: 'Headquarters', securityLevel: 0, parent: null },
    { id: 2, departmentName: 'Sales', securityLevel: 0, parent: 1 },
    { id: 3, departmentName: 'Operations', securityLevel: 0, parent: 1 },
    { id: 4, departmentName: 'Finance', securityLevel: 1, parent: 1 },
    { id: 5, departmentName: 'Executive Office', securityLevel: 2, parent: 1 },
    { id: 6, departmentName: 'Inside Sales', securityLevel: 0, parent: 2 },
    { id: 7, departmentName: 'Field Sales', securityLevel: 0, parent: 2 },
    { id: 8, departmentName: 'Logistics', securityLevel: 0, parent: 3 },
    { id: 9, departmentName: 'Payroll', securityLevel: 1, parent: 4 },
  ];

  const employeeSpecs: [title: string, department: number, reportsTo: number | null, region: string][] = [
    ['Chief Executive', 5, null, 'North America'],
    ['Vice President, Sales', 2, 1, 'North America'],
    ['Head of Operations', 3, 1, 'Western Europe'],
    ['Finance Director', 4, 1, 'British Isles'],
    ['Sales Manager', 6, 2, 'British Isles'],
    ['Sales Representative', 6, 5, 'British Isles'],
    ['Sales Representative', 7, 5, 'North America'],
    ['Sales Representative', 7, 5, 'Central America'],
    ['Logistics Coordinator', 8, 3, 'Western Europe'],
    ['Payroll Clerk', 9, 4, 'British Isles'],
    ['Inside Sales Coordinator', 6, 2, 'Scandinavia'],
    ['Sales Representative', 7, 5, 'South America'],
  ];
  const employees: EmployeeRow[] = employeeSpecs.map(
    ([title, worksForDepartment, reportsTo, region], index) => {
      const [country, city] = random.pick(COUNTRY_BY_REGION[region as (typeof REGIONS)[number]]);
      return {
        id: index + 1,
        lastName: LAST_NAMES[(index * 7) % LAST_NAMES.length]!,
        firstName: FIRST_NAMES[(index * 3) % FIRST_NAMES.length]!,
        title,
        city,
        region,
        country,
        salary: Math.round(random.money(38_000, 95_000) + (reportsTo === null ? 150_000 : 0)),
        worksForDepartment,
        reportsTo,
      };
    },
  );

  return { shippers, suppliers, categories, products, departments, employees };
}

/** The n-th customer (0-based) of the data set; the first ones are the hand-placed FIXED_CUSTOMERS. */
export function buildCustomer(random: Random, index: number): CustomerRow {
  const fixed = FIXED_CUSTOMERS[index];
  const region = fixed ? fixed.region : random.pick(REGIONS);
  const [country, city] = random.pick(
    COUNTRY_BY_REGION[(region ?? 'Western Europe') as (typeof REGIONS)[number]],
  );
  const first = COMPANY_WORDS[0]![index % 25]!;
  const second = COMPANY_WORDS[1]![Math.floor(index / 25) % 10]!;
  return {
    id: fixed ? fixed.id : customerId(index),
    companyName: fixed
      ? fixed.companyName
      : `${first} ${second}${index >= 250 ? ` ${Math.floor(index / 250)}` : ''}`,
    contactName: fixed ? fixed.contactName : `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`,
    contactTitle: random.pick(CONTACT_TITLES),
    address: `${random.int(1, 250)} ${random.pick(LAST_NAMES)} Street`,
    city,
    region,
    postalCode: String(random.int(10000, 99999)),
    country,
    phone: `(555) ${random.int(100, 999)}-${random.int(1000, 9999)}`,
    balance: random.money(0, 5000),
    creditLimit: fixed ? fixed.creditLimit : random.pick([100, 200, 250, 300, 400, 500, 750, 1000, 1500]),
    clientId: fixed ? fixed.clientId : random.pick(TENANT_WEIGHTS),
  };
}

/** Generated customers get codes in the style of the fixed ones: five characters, upper case. */
function customerId(index: number): string {
  let code = '';
  for (let rest = index; code.length < 4; rest = Math.floor(rest / 26)) {
    code = String.fromCharCode(65 + (rest % 26)) + code;
  }
  return `Q${code}`;
}

export function customerCount(scale: number): number {
  return BASE_CUSTOMERS * scale;
}

export function orderCount(scale: number): number {
  return BASE_ORDERS * scale;
}

/** The n-th order (ids start at 1) and its lines, which get ids from `nextDetailId` on. */
export function buildOrder(
  random: Random,
  reference: ReferenceData,
  orderId: number,
  customer: Pick<CustomerRow, 'id' | 'region' | 'city' | 'country' | 'companyName'>,
  nextDetailId: number,
): { order: OrderRow; details: OrderDetailRow[] } {
  const details: OrderDetailRow[] = [];
  const lines = random.int(1, 4) + (random.chance(0.2) ? 1 : 0);
  for (let line = 0; line < lines; line++) {
    const product = random.pick(reference.products);
    const quantity = random.int(1, 40);
    const discount = random.chance(0.7) ? 0 : random.pick([0.05, 0.1, 0.15, 0.2, 0.25]);
    details.push({
      id: nextDetailId + line,
      unitPrice: product.unitPrice,
      quantity,
      discount,
      amount: Math.round(product.unitPrice * quantity * (1 - discount) * 100) / 100,
      order: orderId,
      product: product.id,
    });
  }
  const orderDate = FIRST_ORDER_DATE + random.int(0, 900) * DAY;
  return {
    order: {
      id: orderId,
      orderDate: new Date(orderDate),
      shippedDate: random.chance(0.9) ? new Date(orderDate + random.int(1, 20) * DAY) : null,
      freight: random.money(1, 400),
      shipName: customer.companyName,
      shipCity: customer.city,
      shipRegion: customer.region,
      shipCountry: customer.country,
      amountTotal: Math.round(details.reduce((sum, d) => sum + d.amount, 0) * 100) / 100,
      customer: customer.id,
      employee: random.pick(reference.employees).id,
      shipVia: random.pick(reference.shippers).id,
    },
    details,
  };
}
