// The domain `npm start` serves. A fresh clone serves the Northwind demo; `npm run db:import`
// replaces this folder with the tables of your own database (see README, "Your own database").
export { default } from '../demo/northwind/index.js';
