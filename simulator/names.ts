// Word lists the seeded company is built from. Plain data, kept apart so the generator stays readable.

export const firstNames = [
  'Anna', 'Ben', 'Clara', 'David', 'Elif', 'Felix', 'Greta', 'Hannah', 'Ivan', 'Jonas', 'Katarina',
  'Lukas', 'Maria', 'Noah', 'Olivia', 'Paul', 'Quentin', 'Rosa', 'Sofia', 'Tobias', 'Ursula', 'Viktor',
  'Wiebke', 'Xavier', 'Yara', 'Zeynep', 'Amira', 'Bruno', 'Chiara', 'Diego', 'Emma', 'Finn', 'Giulia',
  'Hugo', 'Ines', 'Jakob', 'Lea', 'Mateo', 'Nora', 'Oskar', 'Priya', 'Rahul', 'Sara', 'Timo', 'Valentina',
  'José', 'Zoë', 'Łukasz', 'Sinéad', "Aoife", 'Søren',
] as const

export const lastNames = [
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann',
  'Koch', 'Richter', 'Klein', 'Wolf', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Krüger', 'Hofmann',
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'García', 'Martínez', 'Rossi', 'Bianchi', 'Dubois',
  'Moreau', 'Nowak', 'Kowalski', 'Yılmaz', 'Kaya', 'Jansen', 'de Vries', 'Novak', "O'Brien", 'Andersen',
  'Silva', 'Costa', 'Patel', 'Singh', 'Nguyen', 'Kim',
] as const

export const nationalities = ['German', 'British', 'Spanish', 'Italian', 'French', 'Polish', 'Turkish', 'Dutch', 'Irish', 'Portuguese', 'Indian'] as const

export const cities = [
  { city: 'Berlin', state: 'Berlin', country: 'DE', street: 'Sonnenallee', zip: '12045' },
  { city: 'Munich', state: 'Bavaria', country: 'DE', street: 'Leopoldstraße', zip: '80802' },
  { city: 'Hamburg', state: 'Hamburg', country: 'DE', street: 'Jungfernstieg', zip: '20354' },
  { city: 'London', state: 'England', country: 'GB', street: 'Old Street', zip: 'EC1V 9HL' },
  { city: 'Madrid', state: 'Madrid', country: 'ES', street: 'Calle de Alcalá', zip: '28014' },
  { city: 'Paris', state: 'Île-de-France', country: 'FR', street: 'Rue de Rivoli', zip: '75001' },
  { city: 'Amsterdam', state: 'North Holland', country: 'NL', street: 'Keizersgracht', zip: '1015 CJ' },
  { city: 'Vienna', state: 'Vienna', country: 'AT', street: 'Mariahilfer Straße', zip: '1070' },
  { city: 'Dublin', state: 'Leinster', country: 'IE', street: 'Grafton Street', zip: 'D02 VF65' },
  { city: 'Lisbon', state: 'Lisbon', country: 'PT', street: 'Rua Augusta', zip: '1100-053' },
] as const

export const companyNames = ['Northwind', 'Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Vandelay', 'Pied Piper'] as const

export const departments: Record<string, { teams: string[]; titles: string[] }> = {
  Engineering: {
    teams: ['Platform', 'Payments', 'Mobile', 'Data', 'Infrastructure', 'Web'],
    titles: ['Software Engineer', 'Senior Software Engineer', 'Staff Engineer', 'Engineering Manager', 'QA Engineer', 'Data Engineer'],
  },
  Sales: {
    teams: ['DACH', 'UK & Ireland', 'Enterprise', 'SMB'],
    titles: ['Account Executive', 'Sales Development Representative', 'Sales Manager', 'Solutions Consultant'],
  },
  Marketing: { teams: ['Brand', 'Growth', 'Content'], titles: ['Marketing Manager', 'Content Writer', 'Growth Analyst', 'Designer'] },
  People: { teams: ['Talent', 'People Operations'], titles: ['Recruiter', 'HR Business Partner', 'People Operations Specialist'] },
  Finance: { teams: ['Accounting', 'FP&A'], titles: ['Accountant', 'Financial Analyst', 'Controller'] },
  'Customer Success': { teams: ['Onboarding', 'Support'], titles: ['Customer Success Manager', 'Support Engineer', 'Onboarding Specialist'] },
}
