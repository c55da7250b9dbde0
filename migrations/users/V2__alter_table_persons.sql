ALTER TABLE Persons ADD DateOfBirth date;
